"""Running the platform without AWS: the template model, provisioning on moto, the local runner."""
