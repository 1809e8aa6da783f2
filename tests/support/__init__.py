"""Test support: a real package index served on loopback, built from tiny real projects."""
