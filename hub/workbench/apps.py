from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "hub.workbench"
    label = "workbench"
    verbose_name = "Operator's workbench"
