from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "hub.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline"
