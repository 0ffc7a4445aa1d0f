"""A real OpenLDAP server (Debian's slapd) on a loopback port, loaded from LDIF: for the tests and the bench."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
MODULES = "/usr/lib/ldap"
SCHEMAS = "/etc/ldap/schema"
SUFFIX = "dc=example,dc=com"
ROOT_DN = "cn=admin,dc=example,dc=com"
ROOT_PASSWORD = "root-secret"
HERE = Path(__file__).parent
LDIF = HERE / "directory.ldif"

CONFIG = """\
include {schemas}/core.schema
include {schemas}/cosine.schema
include {schemas}/inetorgperson.schema
include {schemas}/nis.schema
modulepath {modules}
moduleload back_mdb
pidfile {root}/slapd.pid
# like a production directory: a plain search stops at 500 entries, a paged one reads them all
sizelimit size.soft=500 size.hard=unlimited size.pr=500 size.prtotal=unlimited
database mdb
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {root}/db
maxsize 1073741824
index objectClass,uid,member eq
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
"""


def missing() -> str | None:
    """Why slapd cannot run here, or None."""
    if not os.path.exists(SLAPD) or not os.path.exists(SLAPADD):
        return "未安装 slapd（Debian 软件包 slapd、ldap-utils）"
    if not os.path.exists(os.path.join(MODULES, "back_mdb.so")) and not os.path.exists(os.path.join(MODULES, "back_mdb.la")):
        return f"{MODULES} 下没有 back_mdb 模块"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slapd:
    """slapd with its own temporary directory, mdb database and port; `load()` (re)starts it from LDIF."""

    def __init__(self, tls: bool = False):
        self.root = Path(tempfile.mkdtemp(prefix="slapd-"))
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.tls_port = free_port() if tls else None
        self.ldaps_url = f"ldaps://127.0.0.1:{self.tls_port}" if tls else None
        self.ca_file = str(self.root / "cert.pem") if tls else None
        self.proc: subprocess.Popen | None = None
        config = CONFIG.format(schemas=SCHEMAS, modules=MODULES, root=self.root, suffix=SUFFIX, rootdn=ROOT_DN,
                               rootpw=ROOT_PASSWORD)
        if tls:  # a self-signed certificate for 127.0.0.1: the client trusts it through LDAP_CA_FILE
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(self.root / "key.pem"), "-out", self.ca_file],
                           check=True, capture_output=True)
            config = (f"TLSCertificateFile {self.ca_file}\nTLSCertificateKeyFile {self.root / 'key.pem'}\n"
                      + config)
        (self.root / "slapd.conf").write_text(config)

    def load(self, ldif: str | Path = LDIF) -> "Slapd":
        """Stop, empty the database, load the LDIF offline (fast, entryUUIDs generated), start."""
        self.stop()
        db = self.root / "db"
        shutil.rmtree(db, ignore_errors=True)
        db.mkdir()
        text = Path(ldif).read_text(encoding="utf-8") if isinstance(ldif, Path) or "\n" not in str(ldif) else ldif
        source = self.root / "load.ldif"
        source.write_text(text, encoding="utf-8")
        done = subprocess.run([SLAPADD, "-q", "-f", str(self.root / "slapd.conf"), "-l", str(source)],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"slapadd failed: {done.stderr}")
        self.start()
        return self

    def start(self) -> None:
        urls = self.url + "/" + (f" {self.ldaps_url}/" if self.ldaps_url else "")
        self.proc = subprocess.Popen([SLAPD, "-d", "0", "-h", urls, "-f", str(self.root / "slapd.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.proc.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start within 10 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def admin(self):
        """An ldap3 connection as the root DN, to change the directory during a test."""
        from ldap3 import Connection, Server

        return Connection(Server(self.url), user=ROOT_DN, password=ROOT_PASSWORD, auto_bind=True)

    def config(self, **overrides) -> dict:
        """App settings for this directory: search-then-bind with the service account, OUs as departments."""
        cfg = {
            "LDAP_URL": self.url, "LDAP_BIND_DN": f"cn=svc-minutes,{SUFFIX}", "LDAP_BIND_PASSWORD": "svc-secret",
            "LDAP_USER_DN_TEMPLATE": "", "LDAP_USER_BASE": f"ou=people,{SUFFIX}",
            "LDAP_USER_FILTER": "(objectClass=inetOrgPerson)", "LDAP_GROUP_DN": f"cn=minutes-users,ou=groups,{SUFFIX}",
            "LDAP_GROUP_MEMBER_ATTR": "member", "LDAP_DISABLED_FILTER": "(employeeType=disabled)",
            "LDAP_ATTR_USERNAME": "uid", "LDAP_ATTR_ID": "entryUUID", "LDAP_ATTR_NAME": "cn", "LDAP_ATTR_EMAIL": "mail",
            "LDAP_ATTR_TITLE": "title", "LDAP_ATTR_DEPARTMENT": "", "LDAP_DEPARTMENT_BASE": f"ou=people,{SUFFIX}",
            "LDAP_DEPARTMENT_FILTER": "(objectClass=organizationalUnit)", "LDAP_ATTR_DEPARTMENT_NAME": "ou",
            "LDAP_HEAD_GROUP_DN": f"cn=dept-heads,ou=groups,{SUFFIX}", "LDAP_ATTR_HEAD": "", "LDAP_START_TLS": False,
            "LDAP_TIMEOUT": 5,
        }
        cfg.update(overrides)
        return cfg
