"""The verdict: every objective of the SLA judged against a run's timeline."""
