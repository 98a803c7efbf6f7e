"""The pupil-card engine: readers, matching, the reconcile plan and the photo pipeline."""
