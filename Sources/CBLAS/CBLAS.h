// OpenBLAS's CBLAS interface, as Debian's libopenblas-dev installs it
// (/usr/include/x86_64-linux-gnu/cblas.h, on the compiler's default search path).
#include <cblas.h>
