"""A real OpenID Connect provider on loopback, built from Authlib's server components.

`OidcProvider()` serves, on http://127.0.0.1:<port> in a thread, what a company IdP (Keycloak...) serves:
discovery, a JWKS with its RSA public key, an authorization endpoint with a login form (code flow, PKCE
required, nonce required), a token endpoint (client_secret_basic) issuing RS256-signed ID tokens, UserInfo and
an end-session endpoint. `misbehave` makes it issue a wrong nonce, an expired token, a token signed by a key
that is not in its JWKS, or a token whose payload was altered after signing.
"""
import base64
import json
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server


@dataclass
class Person:
    sub: str
    username: str
    password: str
    name: str
    email: str
    department: str | None = None
    email_verified: bool = True


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    redirect_uris: list = field(default_factory=list)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri):
        return not self.redirect_uris or redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return self.client_secret is not None and client_secret == self.client_secret

    def check_endpoint_auth_method(self, method, endpoint):
        if self.client_secret is None:  # a public client: PKCE alone proves the code's redeemer
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


@dataclass
class Token:
    access_token: str
    client_id: str
    scope: str
    user: Person
    expires_at: float

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int(self.expires_at - time.time())

    def is_expired(self):
        return time.time() > self.expires_at

    def is_revoked(self):
        return False

    def get_user(self):
        return self.user


LOGIN_FORM = """<!doctype html><html><head><meta charset="utf-8"><title>IdP</title></head><body>
<form method="post"><h1>公司统一身份认证</h1>
<label>账号 <input id="idp-username" name="username"></label>
<label>密码 <input id="idp-password" name="password" type="password"></label>
<button id="idp-submit" type="submit">登录</button><p id="idp-error">{error}</p></form></body></html>"""


class OidcProvider:
    """The IdP; `.issuer`, `.people`, `.client`, `.misbehave` (None, "nonce", "expired", "foreign_key", "tamper")."""

    def __init__(self, client_id="minutes", client_secret="s3cret", redirect_uris=None):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "idp-key-1", "use": "sig", "alg": "RS256"})
        #: same kid, different key: what a forger holding some other key would produce
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "idp-key-1", "use": "sig", "alg": "RS256"})
        self.client = Client(client_id, client_secret, list(redirect_uris or []))
        self.people: dict[str, Person] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.misbehave: str | None = None
        self.end_session_calls: list[dict] = []
        self.app = self._build()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name="oidc-provider")
        self._thread.start()

    def add_person(self, **fields) -> Person:
        person = Person(**fields)
        self.people[person.username] = person
        return person

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the server ---------------------------------------------------------------------------
    def _build(self) -> Flask:
        provider = self
        app = Flask("oidc-provider")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 600}

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code, req):
                data = req.payload.data
                provider.codes[code] = Code(code, req.client.client_id, req.payload.redirect_uri, req.payload.scope,
                                            req.user, data.get("nonce"), data.get("code_challenge"),
                                            data.get("code_challenge_method"), int(time.time()), time.time() + 60)

            def query_authorization_code(self, code, client):
                item = provider.codes.get(code)
                if item and item.client_id == client.client_id and time.time() < item.expires_at:
                    return item
                return None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)  # a code is good once

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.foreign_key if provider.misbehave == "foreign_key" else provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "idp-key-1"}

            def get_client_claims(self, client):
                claims = {"iss": provider.issuer, "aud": [client.get_client_id()]}
                if provider.misbehave == "expired":
                    now = int(time.time())
                    claims.update(iat=now - 3600, exp=now - 600)
                return claims

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.misbehave == "nonce":
                    claims["nonce"] = "nonce-of-another-sign-in"
                return claims

            def generate_user_info(self, user, scope):
                info = UserInfo(sub=user.sub, preferred_username=user.username, name=user.name, email=user.email,
                                email_verified=user.email_verified)
                if user.department:
                    info["department"] = user.department
                return info

        def query_client(client_id):
            return provider.client if client_id == provider.client.client_id else None

        def save_token(token, req):
            provider.tokens[token["access_token"]] = Token(token["access_token"], req.client.client_id,
                                                           token.get("scope", ""), req.user,
                                                           time.time() + token.get("expires_in", 600))

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string):
                return provider.tokens.get(token_string)

        protect = ResourceProtector()
        protect.register_token_validator(Validator())

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return jsonify(issuer=base, authorization_endpoint=base + "/authorize", token_endpoint=base + "/token",
                           jwks_uri=base + "/jwks", userinfo_endpoint=base + "/userinfo",
                           end_session_endpoint=base + "/logout", response_types_supported=["code"],
                           subject_types_supported=["public"], id_token_signing_alg_values_supported=["RS256"],
                           code_challenge_methods_supported=["S256"],
                           token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"])

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                try:
                    server.get_consent_grant(end_user=None)
                except Exception as exc:  # a bad request: show it (never redirect to an unchecked URI)
                    return f"invalid request: {exc}", 400
                return LOGIN_FORM.format(error="")
            person = provider.people.get(request.form.get("username", ""))
            if person is None or person.password != request.form.get("password"):
                return LOGIN_FORM.format(error="账号或密码错误"), 200
            return server.create_authorization_response(grant_user=person)

        @app.post("/token")
        def token():
            response = server.create_token_response()
            if provider.misbehave == "tamper" and response.status_code == 200:
                body = json.loads(response.get_data())
                head, payload, signature = body["id_token"].split(".")
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                claims["sub"] = "admin-sub"  # the payload changed, the signature did not
                claims["preferred_username"] = "admin"
                forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
                body["id_token"] = ".".join((head, forged, signature))
                response.set_data(json.dumps(body))
            return response

        @app.get("/userinfo")
        @protect("openid")
        def userinfo():
            user = current_token.user
            return jsonify(sub=user.sub, preferred_username=user.username, name=user.name, email=user.email)

        @app.get("/logout")
        def end_session():
            provider.end_session_calls.append(dict(request.args))
            after = request.args.get("post_logout_redirect_uri")
            return redirect(after) if after else "logged out"

        return app
