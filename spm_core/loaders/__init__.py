"""Loaders that replace the warehouse's contents with a real dataset (see each module for its decisions)."""
