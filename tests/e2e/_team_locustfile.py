"""A team's own locustfile, as perfctl runs it under its shape and measurement."""

from locust import FastHttpUser, between, task  # noqa: TID251 - a team locustfile


class ShopUser(FastHttpUser):
    wait_time = between(0.05, 0.1)

    @task(3)
    def list_items(self) -> None:
        self.client.get("/items", name="team_items")

    @task(1)
    def missing(self) -> None:
        with self.client.get("/items/9", name="team_missing", catch_response=True) as response:
            if response.status_code == 404:
                response.success()
