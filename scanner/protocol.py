"""Constants of the device-hub protocol (docs/sync.md) shared by both sides, kept free of heavy imports."""

# Images travel base64-encoded in these fields of a scan's JSON body, and are stored in columns of these names.
# views_jpeg: for an item scanned from several views, all of them side by side (None for a single scan).
IMAGE_FIELDS = ("frame_jpeg", "heatmap_png", "reference_png", "views_jpeg")
