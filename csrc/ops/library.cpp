// The `s2rdepth` operator library. Each op's schema lives in its own file (TORCH_LIBRARY_FRAGMENT);
// kernels register per dispatch key from cpu/, cuda/ and autograd/. Fake (meta) kernels are
// Python registrations in s2rdepth.ops._fake, which torch imports on demand through
// set_python_module when it needs them (torch.compile, torch.export, FakeTensor).
#include <torch/library.h>

TORCH_LIBRARY(s2rdepth, m) { m.set_python_module("s2rdepth.ops._fake"); }
