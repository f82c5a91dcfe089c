"""The SMS text library, pure and free of AWS: message length and parts, templates in the
carrier's ``${name}`` form and their rendering, the content check and the forbidden words."""
