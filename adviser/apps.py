"""App configuration."""

from django.apps import AppConfig


class AdviserConfig(AppConfig):
    name = "adviser"
