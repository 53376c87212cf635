"""Fakes: in-memory implementations of our interfaces and local servers speaking providers' protocols."""
