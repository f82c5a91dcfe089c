"""Templates: their versions, review and filing with the carrier (``workflow``), the offices'
signatures (``signatures``) and the content check of a template being written (``template_check``)."""
