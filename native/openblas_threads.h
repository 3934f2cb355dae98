// OpenBLAS's own thread controls (not in cblas.h).
#pragma once

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}
