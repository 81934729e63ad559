"""Views of contests (spm_core.contests): boards, the create form, TV mode."""
