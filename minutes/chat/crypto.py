"""How the three platforms sign and encrypt what they post to us (pure functions, no Flask).

Feishu (飞书 卡片回传交互, encrypted with the app's Encrypt Key): the body is {"encrypt": base64(iv ‖
AES-256-CBC(PKCS#7(json)))} with key = SHA-256(encrypt key); the headers carry X-Lark-Request-Timestamp,
X-Lark-Request-Nonce and X-Lark-Signature = hex SHA-256(timestamp + nonce + encrypt key + raw body).

WeCom (企业微信 回调) and DingTalk (钉钉 事件订阅) use the same scheme: the message signature is hex
SHA-1 of the sorted concatenation of token, timestamp, nonce and the ciphertext; the ciphertext is
base64(AES-256-CBC(random 16 bytes ‖ length (4 bytes, network order) ‖ message ‖ receiver id)), the key
being base64-decoded EncodingAESKey + "=" (43 characters → 32 bytes), the IV its first 16 bytes, padded
PKCS#7 to 32-byte blocks; the receiver id is the corpid (WeCom) or the app's key / corpId (DingTalk).
"""
import base64
import hashlib
import hmac
import json
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class BadCallback(Exception):
    """The callback is not signed or encrypted the way the platform does it."""


# --- Feishu ----------------------------------------------------------------------------------

def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    data = (timestamp + nonce + encrypt_key).encode("utf-8") + body
    return hashlib.sha256(data).hexdigest()


def feishu_check(timestamp: str, nonce: str, encrypt_key: str, body: bytes, signature: str) -> None:
    expected = feishu_signature(timestamp, nonce, encrypt_key, body)
    if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):  # bytes: any text is refused
        raise BadCallback("signature")


def feishu_decrypt(encrypt_key: str, encrypted: str) -> dict:
    """The event inside {"encrypt": ...}."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
        key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()
        iv, data = raw[:16], raw[16:]
        if len(iv) != 16 or not data or len(data) % 16:
            raise BadCallback("ciphertext")
        plain = _unpad(_aes(key, iv).decryptor(), data, 16)
        return json.loads(plain.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCallback("ciphertext") from exc


def feishu_encrypt(encrypt_key: str, plain: str) -> str:
    """What Feishu would post (for the loopback tests and for answering encrypted when asked)."""
    key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()
    iv = os.urandom(16)
    encryptor = _aes(key, iv).encryptor()
    data = _pad(plain.encode("utf-8"), 16)
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode("ascii")


# --- WeCom and DingTalk ----------------------------------------------------------------------

def sha1_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")
    return hashlib.sha1(joined).hexdigest()  # nosec B324 - the signature WeCom and DingTalk define


def sha1_check(token: str, timestamp: str, nonce: str, encrypted: str, signature: str) -> None:
    expected = sha1_signature(token, timestamp, nonce, encrypted)
    if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):  # bytes: any text is refused
        raise BadCallback("signature")


def _aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except ValueError as exc:
        raise BadCallback("EncodingAESKey") from exc
    if len(key) != 32:
        raise BadCallback("EncodingAESKey")
    return key


def block_decrypt(encoding_aes_key: str, encrypted: str, receiver_id: str) -> bytes:
    """The message inside a WeCom / DingTalk ciphertext, checking it was meant for `receiver_id`."""
    key = _aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError as exc:
        raise BadCallback("ciphertext") from exc
    if not data or len(data) % 16:
        raise BadCallback("ciphertext")
    plain = _unpad(_aes(key, key[:16]).decryptor(), data, 32)
    if len(plain) < 20:
        raise BadCallback("ciphertext")
    (length,) = struct.unpack(">I", plain[16:20])
    message, receiver = plain[20:20 + length], plain[20 + length:]
    if len(message) != length or receiver.decode("utf-8", "replace") != receiver_id:
        raise BadCallback("receiver")
    return message


def block_encrypt(encoding_aes_key: str, message: bytes, receiver_id: str) -> str:
    key = _aes_key(encoding_aes_key)
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receiver_id.encode("utf-8")
    encryptor = _aes(key, key[:16]).encryptor()
    return base64.b64encode(encryptor.update(_pad(plain, 32)) + encryptor.finalize()).decode("ascii")


# --- AES-CBC with PKCS#7 -------------------------------------------------------------------------

def _aes(key: bytes, iv: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(decryptor, data: bytes, block: int) -> bytes:
    plain = decryptor.update(data) + decryptor.finalize()
    n = plain[-1] if plain else 0
    if not 1 <= n <= block or plain[-n:] != bytes([n]) * n:
        raise BadCallback("padding")
    return plain[:-n]
