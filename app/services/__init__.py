"""Business rules. Views, REST APIs, Celery tasks, the CLI and tests call these;
only services commit."""
