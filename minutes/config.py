"""Configuration read from the environment, with embedded defaults for a laptop."""
import os


class Config:
    """Settings for one deployment; every value can be set by environment variable."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    #: How passwords are stored: werkzeug's scrypt at its own default cost (N=2^15, ~80 ms a check). Not read
    #: from the environment; the test suite lowers the cost (tests/conftest.py), a test pins this default.
    PASSWORD_HASH_METHOD = "scrypt:32768:8:1"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None  # filled in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    #: Live room: a `: ping` on idle streams every so many seconds; the watchdog compares committed and
    #: delivered revisions every so many seconds (a change whose publish was lost arrives at most ~2 rounds late).
    ROOM_PING_SECONDS = float(os.environ.get("ROOM_PING_SECONDS", "15"))
    ROOM_WATCH_SECONDS = float(os.environ.get("ROOM_WATCH_SECONDS", "5"))
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_SENDER = os.environ.get("SMTP_SENDER", "minutes@localhost")
    #: Development and demos (`make run` sets it): email is not sent over SMTP but kept in a local mailbox shown at
    #: /dev/mailbox (a message counts as delivered once there). The page does not exist otherwise.
    MAIL_DEV_MAILBOX = os.environ.get("MAIL_DEV_MAILBOX", "0") == "1"
    #: Base URL used for links in emails and IM messages.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    #: How many reverse proxies (nginx) stand in front: their X-Forwarded-For/-Proto are then believed, so
    #: the client's address (login throttling, logs) and https are seen. 0: the headers are ignored (spoofable).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    #: Deliver the outbox right after a commit (single-process mode); production runs `flask minutes tick`.
    OUTBOX_DELIVER_ON_COMMIT = os.environ.get("OUTBOX_DELIVER_ON_COMMIT", "1") == "1"
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or None  # default: instance/uploads
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    #: The company's local time zone: meetings are planned and displayed in it.
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    #: A session ends after this long without a request (idle) and this long after login (absolute).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "240"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_HOURS * 3600
    #: Login throttling: failures per account and address (and the step of the account's back-off), failures
    #: per address over all accounts, within so many minutes.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "30"))
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
    #: A successful login makes its address familiar to the user this long: from there the user passes the
    #: account's back-off and the address limit (see minutes/people/throttle.py).
    LOGIN_KNOWN_ADDRESS_DAYS = int(os.environ.get("LOGIN_KNOWN_ADDRESS_DAYS", "90"))

    # --- single sign-on (minutes/identity): a method shows on the login page once its settings are given ---
    #: Outgoing calls to an IdP or a vendor's open platform give up after so many seconds.
    SSO_HTTP_TIMEOUT = float(os.environ.get("SSO_HTTP_TIMEOUT", "10"))
    #: Accounts created at a first sign-in without a department from the provider land here.
    SSO_DEFAULT_DEPARTMENT = os.environ.get("SSO_DEFAULT_DEPARTMENT", "未分配部门")
    #: OpenID Connect (Keycloak, Authing, Entra ID, Okta...): the issuer's /.well-known/openid-configuration is read.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None  #: empty: a public client (PKCE only)
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email")
    #: The claim that becomes the login name (the account is matched by `sub`; this links an existing account).
    OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
    OIDC_NAME_CLAIM = os.environ.get("OIDC_NAME_CLAIM", "name")
    #: A claim holding the department's name (a Keycloak user attribute mapped into the token); empty: none.
    OIDC_DEPARTMENT_CLAIM = os.environ.get("OIDC_DEPARTMENT_CLAIM") or None
    OIDC_BUTTON_LABEL = os.environ.get("OIDC_BUTTON_LABEL", "企业单点登录")
    #: Log out at the IdP too (RP-initiated logout through its end_session_endpoint, when it has one).
    OIDC_LOGOUT_AT_PROVIDER = os.environ.get("OIDC_LOGOUT_AT_PROVIDER", "1") == "1"
    #: Feishu 飞书网页应用登录 (a custom app's App ID / App Secret).
    FEISHU_APP_ID = os.environ.get("FEISHU_APP_ID") or None
    FEISHU_APP_SECRET = os.environ.get("FEISHU_APP_SECRET") or None
    FEISHU_BASE_URL = os.environ.get("FEISHU_BASE_URL", "https://open.feishu.cn")
    FEISHU_AUTHORIZE_URL = os.environ.get("FEISHU_AUTHORIZE_URL",
                                          "https://accounts.feishu.cn/open-apis/authen/v1/authorize")
    FEISHU_BUTTON_LABEL = os.environ.get("FEISHU_BUTTON_LABEL", "飞书登录")
    #: DingTalk 钉钉扫码登录 (an internal app's Client ID = AppKey, Client Secret = AppSecret).
    DINGTALK_CLIENT_ID = os.environ.get("DINGTALK_CLIENT_ID") or None
    DINGTALK_CLIENT_SECRET = os.environ.get("DINGTALK_CLIENT_SECRET") or None
    #: The company's corpId: a sign-in from another DingTalk organization is refused. Empty: not checked.
    DINGTALK_CORP_ID = os.environ.get("DINGTALK_CORP_ID") or None
    DINGTALK_LOGIN_URL = os.environ.get("DINGTALK_LOGIN_URL", "https://login.dingtalk.com")
    DINGTALK_API_URL = os.environ.get("DINGTALK_API_URL", "https://api.dingtalk.com")
    DINGTALK_OAPI_URL = os.environ.get("DINGTALK_OAPI_URL", "https://oapi.dingtalk.com")
    DINGTALK_BUTTON_LABEL = os.environ.get("DINGTALK_BUTTON_LABEL", "钉钉登录")
    #: WeCom 企业微信扫码登录 / 网页授权 (the corpid, a self-built app's AgentId and Secret).
    WECOM_CORP_ID = os.environ.get("WECOM_CORP_ID") or None
    WECOM_AGENT_ID = os.environ.get("WECOM_AGENT_ID") or None
    WECOM_SECRET = os.environ.get("WECOM_SECRET") or None
    WECOM_BASE_URL = os.environ.get("WECOM_BASE_URL", "https://qyapi.weixin.qq.com")
    WECOM_LOGIN_URL = os.environ.get("WECOM_LOGIN_URL", "https://login.work.weixin.qq.com")
    WECOM_OAUTH_URL = os.environ.get("WECOM_OAUTH_URL", "https://open.weixin.qq.com")
    WECOM_BUTTON_LABEL = os.environ.get("WECOM_BUTTON_LABEL", "企业微信登录")
    #: Local passwords: "all" (default) or "admins" (only administrators sign in with a local password; everyone
    #: else through the company directory or IdP). Read by every sign-in method.
    LOCAL_LOGIN = os.environ.get("LOCAL_LOGIN", "all")
    #: LDAP / Active Directory sign-in and org-chart sync (off while LDAP_URL is empty). See README, "LDAP / AD".
    LDAP_URL = os.environ.get("LDAP_URL", "")  #: ldap://host:389 or ldaps://host:636
    LDAP_START_TLS = os.environ.get("LDAP_START_TLS", "0") == "1"
    LDAP_TLS_VERIFY = os.environ.get("LDAP_TLS_VERIFY", "1") == "1"
    LDAP_CA_FILE = os.environ.get("LDAP_CA_FILE") or None
    LDAP_TIMEOUT = float(os.environ.get("LDAP_TIMEOUT", "5"))
    #: The service account that searches (search-then-bind sign-in, and the sync). Empty: bind as the user with
    #: LDAP_USER_DN_TEMPLATE.
    LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN", "")
    LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD", "")
    #: Bind as the user directly: "uid={username},ou=people,dc=example,dc=com" or AD's "{username}@corp.example.com".
    LDAP_USER_DN_TEMPLATE = os.environ.get("LDAP_USER_DN_TEMPLATE", "")
    #: Who may sign in and who is synced: the entries under LDAP_USER_BASE matching LDAP_USER_FILTER (and members
    #: of LDAP_GROUP_DN when set).
    LDAP_USER_BASE = os.environ.get("LDAP_USER_BASE", "")
    LDAP_USER_FILTER = os.environ.get("LDAP_USER_FILTER", "(objectClass=inetOrgPerson)")
    LDAP_GROUP_DN = os.environ.get("LDAP_GROUP_DN", "")
    LDAP_GROUP_MEMBER_ATTR = os.environ.get("LDAP_GROUP_MEMBER_ATTR", "member")
    #: Accounts the directory has disabled, e.g. AD "(userAccountControl:1.2.840.113556.1.4.803:=2)".
    LDAP_DISABLED_FILTER = os.environ.get("LDAP_DISABLED_FILTER", "")
    LDAP_ATTR_USERNAME = os.environ.get("LDAP_ATTR_USERNAME", "uid")  #: AD: sAMAccountName
    LDAP_ATTR_ID = os.environ.get("LDAP_ATTR_ID", "entryUUID")  #: AD: objectGUID
    LDAP_ATTR_NAME = os.environ.get("LDAP_ATTR_NAME", "cn")  #: AD: displayName
    LDAP_ATTR_EMAIL = os.environ.get("LDAP_ATTR_EMAIL", "mail")
    LDAP_ATTR_TITLE = os.environ.get("LDAP_ATTR_TITLE", "title")
    #: The department as an attribute of the person (AD: department). Empty: the organizational unit the person
    #: is in (the OUs under LDAP_DEPARTMENT_BASE are the departments).
    LDAP_ATTR_DEPARTMENT = os.environ.get("LDAP_ATTR_DEPARTMENT", "")
    LDAP_DEPARTMENT_BASE = os.environ.get("LDAP_DEPARTMENT_BASE", "")  #: default LDAP_USER_BASE
    LDAP_DEPARTMENT_FILTER = os.environ.get("LDAP_DEPARTMENT_FILTER", "(objectClass=organizationalUnit)")
    LDAP_ATTR_DEPARTMENT_NAME = os.environ.get("LDAP_ATTR_DEPARTMENT_NAME", "ou")
    #: 部门负责人: members of this group, and/or people whose LDAP_ATTR_HEAD is TRUE/1/yes/是.
    LDAP_HEAD_GROUP_DN = os.environ.get("LDAP_HEAD_GROUP_DN", "")
    LDAP_ATTR_HEAD = os.environ.get("LDAP_ATTR_HEAD", "")
    #: Org-chart sync by the tick: the sources ("ldap", "feishu", "dingtalk", "wecom", or several: "ldap,wecom"; a
    #: vendor's contacts API uses its sign-in settings), every so many minutes.
    DIRECTORY_SYNC = os.environ.get("DIRECTORY_SYNC", "")
    DIRECTORY_SYNC_MINUTES = int(os.environ.get("DIRECTORY_SYNC_MINUTES", "60"))

    # --- personal message cards (minutes/chat): reminders and sign-off requests through the company's chat app ---
    #: feishu, dingtalk or wecom (one platform); empty: e-mail only. The app is the one its sign-in settings name
    #: (FEISHU_APP_ID..., DINGTALK_CLIENT_ID..., WECOM_CORP_ID...); people without an identity there keep e-mail.
    CHAT_PLATFORM = os.environ.get("CHAT_PLATFORM", "")
    #: Also put each meeting into the platform's own calendar (飞书日历 / 钉钉日程 / 企业微信日程) when the agenda is sent,
    #: kept in step on change and cancellation, for the invitees with an identity there (1/true/yes; default off).
    CHAT_CALENDAR_EVENTS = os.environ.get("CHAT_CALENDAR_EVENTS", "").strip().lower() in ("1", "true", "yes", "on")
    #: Feishu: the calendar the app writes the events into; empty: the app's own primary calendar.
    FEISHU_CALENDAR_ID = os.environ.get("FEISHU_CALENDAR_ID", "")
    #: Feishu: the app's Encrypt Key (callbacks are signed and encrypted with it) and Verification Token.
    FEISHU_CARD_ENCRYPT_KEY = os.environ.get("FEISHU_CARD_ENCRYPT_KEY") or None
    FEISHU_CARD_VERIFICATION_TOKEN = os.environ.get("FEISHU_CARD_VERIFICATION_TOKEN") or None
    #: WeCom: the app's 接收消息 Token and EncodingAESKey.
    WECOM_CALLBACK_TOKEN = os.environ.get("WECOM_CALLBACK_TOKEN") or None
    WECOM_ENCODING_AES_KEY = os.environ.get("WECOM_ENCODING_AES_KEY") or None
    #: DingTalk: the internal app's AgentId (工作通知 are sent as this app).
    DINGTALK_AGENT_ID = os.environ.get("DINGTALK_AGENT_ID") or None
    #: A callback whose timestamp is further than this from now is refused (replays of old callbacks).
    CHAT_CALLBACK_WINDOW_SECONDS = int(os.environ.get("CHAT_CALLBACK_WINDOW_SECONDS", "300"))
    #: WeCom: after 提出修改意见 on a card, the person's next text message to the app within this many minutes is
    #: the comment.
    CHAT_COMMENT_WAIT_MINUTES = int(os.environ.get("CHAT_COMMENT_WAIT_MINUTES", "30"))
    #: DingTalk's signed button links are good this many days after the card was sent.
    CHAT_LINK_DAYS = int(os.environ.get("CHAT_LINK_DAYS", "30"))
    #: Cards sent a second (0: the platform's default, see minutes/chat/service.py PER_SECOND).
    CHAT_SENDS_PER_SECOND = int(os.environ.get("CHAT_SENDS_PER_SECOND", "0"))
    #: Seconds of sending at that pace one delivery pass (a tick) gives the cards; the rest wait for the next tick.
    CHAT_SECONDS_PER_PASS = float(os.environ.get("CHAT_SECONDS_PER_PASS", "3"))

    # --- suggestions from the company's own model (minutes/transcripts/model.py): hidden while no URL is set ---
    #: An OpenAI-compatible base URL of a model the company runs itself (vLLM, Ollama...): http://10.0.0.5:8000/v1
    ASSIST_MODEL_URL = os.environ.get("ASSIST_MODEL_URL", "")
    #: The model's name on that server (Qwen, DeepSeek, GLM...).
    ASSIST_MODEL = os.environ.get("ASSIST_MODEL", "")
    #: The server's API key, when it asks for one.
    ASSIST_MODEL_KEY = os.environ.get("ASSIST_MODEL_KEY", "")
    #: Seconds to wait for the server (connecting, and between two pieces of the streamed answer).
    ASSIST_TIMEOUT = float(os.environ.get("ASSIST_TIMEOUT", "60"))
    #: Retries of a failed connection (the client waits a little longer before each).
    ASSIST_RETRIES = int(os.environ.get("ASSIST_RETRIES", "1"))
    #: The longest question (instructions + agenda + transcript, in characters) sent to the model: set it to what fits
    #: the model's context window (roughly 1 character ≈ 1 token for Chinese); a longer transcript keeps the rules.
    ASSIST_MAX_CHARS = int(os.environ.get("ASSIST_MAX_CHARS", "60000"))
    #: Send the transcripts of confidential meetings (仅参会人) to this model too. Off: never sent.
    ASSIST_ALLOW_CONFIDENTIAL = os.environ.get("ASSIST_ALLOW_CONFIDENTIAL", "0") == "1"
