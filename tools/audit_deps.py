"""`make audit`: pip-audit over the installed dependencies, skipped with a reason when it cannot work.

pip-audit asks a vulnerability service about each installed package. Where that service does not
answer (no internet, or a package mirror without the JSON API), it would report every package as
"could not be audited" and still say "No known vulnerabilities found"; this script notices that,
says so plainly and exits 0 (see README, "Security checks"). A known vulnerability fails it.
"""
import json
import os
import subprocess  # nosec B404
import sys

PIP_AUDIT = os.path.join(os.path.dirname(sys.executable), "pip-audit")
ARGS = ["--format", "json", "--progress-spinner", "off", "--timeout", "10"]


def run(*extra: str) -> dict | None:
    result = subprocess.run([PIP_AUDIT, *ARGS, *extra], capture_output=True, text=True, timeout=600)  # nosec B603
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return None


def audited(report: dict | None) -> list[dict]:
    return [d for d in (report or {}).get("dependencies", []) if "skip_reason" not in d]


def service_answers() -> bool:
    """Ask pip-audit's own service about one pinned package: does it know it at all?"""
    from packaging.version import Version
    from pip_audit._service import PyPIService, ResolvedDependency, SkippedDependency
    from pip_audit._service.interface import ServiceError

    try:
        dependency, _ = PyPIService(timeout=10).query(ResolvedDependency(name="flask", version=Version("3.1.3")))
    except ServiceError:
        return False
    return not isinstance(dependency, SkippedDependency)


def main() -> int:
    if not service_answers():
        print("pip-audit: 跳过——漏洞数据库（PyPI JSON API）在本机不可达，无法检查依赖漏洞"
              "（skipped: the vulnerability service does not answer from this machine; see README）")
        return 0
    report = audited(run())
    vulnerable = [d for d in report if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"pip-audit: {dep['name']} {dep['version']}: {ids}")
    if vulnerable:
        return 1
    print(f"pip-audit: {len(report)} packages audited, no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
