"""lgsec: the information security policy of a Japanese local government, as code."""

__version__ = "0.1.0"
