from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "hub.delivery"
    label = "delivery"
    verbose_name = "Deliveries"
