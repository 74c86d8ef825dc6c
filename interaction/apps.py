"""App configuration."""

from django.apps import AppConfig


class InteractionConfig(AppConfig):
    name = "interaction"
