"""The local platform: ``python -m infra.local`` (``make run``) runs the whole platform on this
machine, with moto's server standing in for AWS and a carrier simulator for the carrier."""
