"""OpenID Connect sign-in: authorization code with PKCE (S256), discovery, the ID token checked against the IdP's keys.

Authlib does the protocol: its requests client builds the authorization URL (PKCE) and redeems the code, joserfc
checks the ID token's signature against the provider's JWKS, and Authlib's `CodeIDToken` its claims (iss, aud,
exp, iat, nonce, azp, at_hash). Nothing here parses a JWT by hand. Plain values in and out: the view keeps the
pending sign-in (state, nonce, code verifier) in the session and hands it back.
"""
import time
from dataclasses import dataclass

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask_babel import gettext
from joserfc import jwt
from joserfc.errors import (BadSignatureError, ExpiredTokenError, InvalidClaimError, InvalidKeyIdError, JoseError,
                            MissingClaimError)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from minutes.identity.service import Profile, ProviderUnavailable, SignInRefused, call_provider, check_state

#: Signature algorithms accepted for ID tokens: public-key ones only (never "none", never a shared secret).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
#: Seconds of clock difference tolerated between this server and the IdP.
LEEWAY = 60
#: The discovery document and the keys are read again after this long (keys also on an unknown `kid`).
METADATA_SECONDS = 3600

#: The URL is kept in the session cookie (browsers keep 4 KB a cookie): a longer ID token is left out of it; the
#: IdP then identifies the session by client_id (and may ask the person to confirm the logout).
ID_TOKEN_HINT_MAX = 1800

_cache: dict[str, tuple[float, dict]] = {}  # per process: url -> (fetched at, document); re-read when stale


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    username_claim: str
    name_claim: str
    department_claim: str | None
    timeout: float

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(issuer=config["OIDC_ISSUER"].rstrip("/"), client_id=config["OIDC_CLIENT_ID"],
                   client_secret=config.get("OIDC_CLIENT_SECRET") or None,
                   scopes=config.get("OIDC_SCOPES") or "openid", username_claim=config["OIDC_USERNAME_CLAIM"],
                   name_claim=config.get("OIDC_NAME_CLAIM") or "name",
                   department_claim=config.get("OIDC_DEPARTMENT_CLAIM") or None,
                   timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10))


def _fetch(url: str, timeout: float, *, force: bool = False) -> dict:
    cached = _cache.get(url)
    if cached and not force and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    status, document = call_provider("GET", url, what=gettext("身份提供方"), timeout=timeout)
    if status != 200:
        raise ProviderUnavailable(gettext("身份提供方返回 HTTP %(status)s（%(url)s），请检查 OIDC_ISSUER", status=status,
                                          url=url))
    _cache[url] = (time.monotonic(), document)
    return document


def metadata(settings: Settings) -> dict:
    """The IdP's discovery document; its `issuer` must be the configured one (OpenID Connect Discovery 4.3)."""
    document = _fetch(settings.issuer + "/.well-known/openid-configuration", settings.timeout)
    missing = [k for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)]
    if missing or document["issuer"].rstrip("/") != settings.issuer:
        raise ProviderUnavailable(gettext("身份提供方的发现文档与 OIDC_ISSUER 不符（%(what)s），请检查配置",
                                          what=", ".join(missing) or document["issuer"]))
    return document


def _client(settings: Settings, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(settings.client_id, settings.client_secret, scope=settings.scopes, redirect_uri=redirect_uri,
                         code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic" if settings.client_secret else "none")


def begin(settings: Settings, redirect_uri: str) -> tuple[str, dict]:
    """The IdP's authorization URL and what the callback must find again: {state, nonce, code_verifier}."""
    meta = metadata(settings)
    pending = {"state": generate_token(32), "nonce": generate_token(32), "code_verifier": generate_token(64)}
    with _client(settings, redirect_uri) as client:
        url, _state = client.create_authorization_url(meta["authorization_endpoint"], state=pending["state"],
                                                      nonce=pending["nonce"], code_verifier=pending["code_verifier"])
    return url, pending


def finish(settings: Settings, redirect_uri: str, pending: dict | None, args) -> tuple[Profile, str]:
    """Check the IdP's answer and the ID token; (the person's profile, the raw ID token for logout)."""
    pending = pending or {}
    if args.get("error"):
        check_state(pending.get("state"), args.get("state"))
        raise SignInRefused(gettext("身份提供方拒绝了登录：%(error)s",
                                    error=args.get("error_description") or args.get("error")))
    check_state(pending.get("state"), args.get("state"))
    code = args.get("code")
    if not code:
        raise SignInRefused(gettext("身份提供方没有返回授权码，请重新登录"))
    meta = metadata(settings)
    with _client(settings, redirect_uri) as client:
        try:
            token = client.fetch_token(meta["token_endpoint"], code=code, code_verifier=pending["code_verifier"],
                                       timeout=settings.timeout)
        except OAuthError as exc:
            raise SignInRefused(gettext("身份提供方拒绝了授权码（%(error)s），请重新登录",
                                        error=exc.description or exc.error)) from exc
        except Exception as exc:  # network errors, a token endpoint that answers nonsense
            raise ProviderUnavailable(gettext("无法向身份提供方换取令牌（%(error)s），请稍后重试",
                                              error=type(exc).__name__)) from exc
        if not token.get("id_token"):
            raise SignInRefused(gettext("身份提供方没有返回身份令牌（ID Token），请检查 OIDC_SCOPES 是否含 openid"))
        claims = validate_id_token(settings, meta, token["id_token"], pending.get("nonce"), token.get("access_token"))
        if meta.get("userinfo_endpoint") and _wants_userinfo(settings, claims):
            claims = _merge_userinfo(settings, client, meta["userinfo_endpoint"], claims)
    return profile_from_claims(settings, claims), token["id_token"]


def _keys(settings: Settings, meta: dict, force: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_fetch(meta["jwks_uri"], settings.timeout, force=force))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderUnavailable(gettext("无法读取身份提供方的签名公钥（JWKS）")) from exc


def validate_id_token(settings: Settings, meta: dict, id_token: str, nonce: str | None,
                      access_token: str | None = None) -> dict:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce are right; else SignInRefused."""
    algorithms = [a for a in meta.get("id_token_signing_alg_values_supported") or ["RS256"]
                  if a in ASYMMETRIC_ALGORITHMS]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(id_token, _keys(settings, meta), registry=registry)
        except InvalidKeyIdError:  # the IdP rotated its keys since we read them
            decoded = jwt.decode(id_token, _keys(settings, meta, force=True), registry=registry)
        claims = CodeIDToken(decoded.claims, decoded.header,
                             {"iss": {"essential": True, "value": meta["issuer"]},
                              "aud": {"essential": True, "value": settings.client_id}},
                             {"nonce": nonce, "client_id": settings.client_id, "access_token": access_token})
        if not nonce:
            raise InvalidClaimError("nonce")
        claims.validate(leeway=LEEWAY)
    except ExpiredTokenError as exc:
        raise SignInRefused(gettext("身份令牌已过期，请重新登录")) from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = getattr(exc, "claim", "") or ""
        if "nonce" in str(exc) or claim == "nonce":
            raise SignInRefused(gettext("身份令牌与本次登录不符（nonce 不符），请重新登录")) from exc
        raise SignInRefused(gettext("身份令牌的声明无效（%(claim)s），请重新登录", claim=claim or exc.error)) from exc
    except BadSignatureError as exc:
        raise SignInRefused(gettext("身份令牌签名无效，已拒绝登录")) from exc
    except JoseError as exc:
        raise SignInRefused(gettext("身份令牌无法验证（%(error)s），已拒绝登录", error=exc.error)) from exc
    except ValueError as exc:  # not a JWT at all
        raise SignInRefused(gettext("身份令牌格式无效，已拒绝登录")) from exc
    return dict(claims)


def _wants_userinfo(settings: Settings, claims: dict) -> bool:
    wanted = [settings.username_claim, settings.name_claim, "email"]
    if settings.department_claim:
        wanted.append(settings.department_claim)
    return any(claim not in claims for claim in wanted)


def _merge_userinfo(settings: Settings, client: OAuth2Session, url: str, claims: dict) -> dict:
    """Claims the ID token left out, from the UserInfo endpoint; its `sub` must be the token's (OIDC Core 5.3.2)."""
    try:
        response = client.get(url, timeout=settings.timeout)
        info = response.json() if response.status_code == 200 else {}
    except Exception:  # the ID token already proved who this is; UserInfo only adds details
        return claims
    if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
        return claims
    return {**info, **claims}


def _text(value) -> str | None:
    if isinstance(value, list):  # Keycloak maps a multivalued attribute to a list
        value = value[0] if value else None
    return str(value).strip() if value not in (None, "") else None


def profile_from_claims(settings: Settings, claims: dict) -> Profile:
    """Map the ID token's claims to a Profile; an e-mail the IdP says is unverified is not used to link accounts."""
    email = _text(claims.get("email"))
    if claims.get("email_verified") is False:
        email = None
    username = _text(claims.get(settings.username_claim)) or email or claims["sub"]
    return Profile(subject=claims["sub"], username=username[:64],
                   name=(_text(claims.get(settings.name_claim)) or username)[:64], email=email,
                   department=_text(claims.get(settings.department_claim)) if settings.department_claim else None)


def logout_url(settings: Settings, id_token: str | None, after: str) -> str | None:
    """RP-initiated logout at the IdP (its end_session_endpoint), coming back to `after`; None when it has none."""
    try:
        meta = metadata(settings)
    except ProviderUnavailable:
        return None
    if not meta.get("end_session_endpoint"):
        return None
    from authlib.common.urls import add_params_to_uri

    params = [("client_id", settings.client_id), ("post_logout_redirect_uri", after)]
    if id_token and len(id_token) <= ID_TOKEN_HINT_MAX:
        params.insert(0, ("id_token_hint", id_token))
    return add_params_to_uri(meta["end_session_endpoint"], params)
