/* The BSP's VMX capabilities: vmx/vmx_cpu.c reads them at VMXON, nested/ and core/ read them after. */
#include "nestor/vmx.h"

struct vmx_caps g_vmx_caps;
