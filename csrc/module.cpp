// The Python extension module `s2rdepth._C`. Importing it runs the static TORCH_LIBRARY
// registrations of every op in this library; the module itself only reports how it was built.
#include <Python.h>

#ifndef S2RDEPTH_WITH_CUDA
#define S2RDEPTH_WITH_CUDA 0
#endif
#ifndef S2RDEPTH_CUDA_ARCHS
#define S2RDEPTH_CUDA_ARCHS ""
#endif

static struct PyModuleDef s2rdepth_module = {
    PyModuleDef_HEAD_INIT, "_C",
    "Compiled operators of s2rdepth (registered under torch.ops.s2rdepth).", -1, nullptr};

PyMODINIT_FUNC PyInit__C(void) {
  PyObject* m = PyModule_Create(&s2rdepth_module);
  if (m == nullptr) return nullptr;
  if (PyModule_AddIntConstant(m, "with_cuda", S2RDEPTH_WITH_CUDA) < 0 ||
      PyModule_AddStringConstant(m, "cuda_archs", S2RDEPTH_CUDA_ARCHS) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
