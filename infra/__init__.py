"""AWS resources beyond what Chalice creates, generated from the same definitions the code uses."""
