"""Views of the coaching pages (spm_core.coaching), cached per warehouse version."""
