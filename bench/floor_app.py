"""The app bench/claims.py serves: the production app plus one bare endpoint, the floor.

``POST /bench/floor/<activity_id>/<member_id>`` runs only the claim's one UPDATE … RETURNING
(app/services/claims.py, the same statement) and commits: no JWT, no permission check, no facts
query. 32 clients against it under the same gunicorn measure what the machine can do at best.
"""
from __future__ import annotations

from uuid import uuid4

from app import create_app
from app.extensions import csrf, db
from app.services import claims
from models.base import utcnow

app = create_app()


@csrf.exempt
def floor(activity_id: int, member_id: int):
    statement = claims._CLAIM_BY_DIALECT[db.session.get_bind().dialect.name]  # the claim's own statement
    row = db.session.execute(statement, {"member_id": member_id, "slot": uuid4().hex[:16], "now": utcnow(),
                                         "activity_id": activity_id}).first()
    db.session.commit()
    return ("", 201) if row is not None else ("", 409)


app.add_url_rule("/bench/floor/<int:activity_id>/<int:member_id>", view_func=floor, methods=["POST"])
