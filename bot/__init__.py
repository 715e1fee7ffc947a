"""xiaoer (店小二): customer service for Taobao-style shops."""

__version__ = "0.1.0"
