"""The shared domain of the Weihai social-insurance SMS platform.

Shipped as a Lambda layer; imported the same way by every function, by the tests and by the
local runner. Modules import only what they use so that handlers stay quick to cold-start.
"""
