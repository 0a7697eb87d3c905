"""Dataset readers, transforms, KITTI Velodyne ground truth and the built-in scene generator."""
