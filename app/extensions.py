"""Extension singletons, bound to the app in :func:`app.create_app`.

The AppBuilder is made per app (it keeps a registry of views), reachable as
``current_app.appbuilder``.
"""
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
csrf = CSRFProtect()
migrate = Migrate()
