"""Network architectures of S2R-DepthNet and DA-Monodepth."""
