"""Steps of a browser's sign-in that the identity tests share."""
from urllib.parse import parse_qs, urlencode, urlsplit


def callback(client, url: str, **override):
    """Follow the provider's redirect back to the app (a URL of the app's), with some parameters replaced."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(override)
    return client.get(parts.path + "?" + urlencode(query))
