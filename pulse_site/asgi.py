"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Run it with ``daphne pulse_site.asgi:application`` (scaled mode) or let
``runpulse --serve`` run it in-process (embedded mode).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulse_site.settings")
# Django must be set up before consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from pulse.api.routing import with_api  # noqa: E402
from pulse.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # /ws/api/ authenticates with a token (no cookies, so no Origin check needed);
        # every other socket is a page: session auth behind the Origin check.
        "websocket": with_api(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
