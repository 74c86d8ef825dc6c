"""Celery finds an app's tasks here (`autodiscover_tasks`): they live in `mirror.tasks`."""

from .mirror.tasks import follow_all, follow_entity, import_window, start_sweep, sweep_all, sweep_partition

__all__ = ["follow_all", "follow_entity", "import_window", "start_sweep", "sweep_all", "sweep_partition"]
