"""Developer tooling: the `coverwatch` CLI, the embedded local AWS and the demo. Never shipped to Lambda."""
