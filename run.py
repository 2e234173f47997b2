"""python run.py → the seeded demo on http://127.0.0.1:5000 with a Celery worker.

Idempotent: the schema is upgraded (``flask db upgrade``), roles are synced and the demo is
seeded only once.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app import create_app
from app.config import instance_secret_key

if __name__ == "__main__" and not os.environ.get("SECRET_KEY"):
    # the demo only: a random key kept under instance/ (0600); the worker below inherits it
    os.environ["SECRET_KEY"] = instance_secret_key()
app = create_app()


def main() -> None:
    from app.cli import init_db
    from app.extensions import db
    from seed.loader import seed_demo

    with app.app_context():
        init_db(demo=True)
        print(seed_demo(db.session), flush=True)
    worker = None
    if not app.config["CELERY_TASK_ALWAYS_EAGER"]:
        worker = subprocess.Popen(
            # -B: the embedded beat runs the scheduled jobs (expiry, closing ended activities)
            [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=solo", "-B",
             "--schedule", str(Path(app.config["FILE_DIR"]).parent / "celerybeat-schedule"), "--loglevel=warning"],
        )
    try:
        app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", 5000)),
                use_reloader=False, threaded=True)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


if __name__ == "__main__":
    main()
