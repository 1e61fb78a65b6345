/* vmcs12 field table: encoding -> slot, width and access (see include/nestor/vmcs12.h). */
#include "nestor/vmcs12.h"

/* Dense index of an encoding: width (2 bits), type (2 bits), index (6 bits). */
#define ENC_KEY(e) ((VMCS_ENC_WIDTH(e) << 8) | (VMCS_ENC_TYPE(e) << 6) | (VMCS_ENC_INDEX(e) & 0x3f))

#define LOOKUP_ENTRY(enc, feat) [ENC_KEY(enc)] = SLOT_##enc + 1,
static const uint8_t slot_by_key[1024] = {VMCS12_FIELDS(LOOKUP_ENTRY)};

#define ENCODING_ENTRY(enc, feat) enc,
static const uint32_t encoding_by_slot[VMCS12_NFIELDS] = {VMCS12_FIELDS(ENCODING_ENTRY)};

#define FEATURE_ENTRY(enc, feat) feat,
static const uint8_t feature_by_slot[VMCS12_NFIELDS] = {VMCS12_FIELDS(FEATURE_ENTRY)};

/* Names as the SDM's Appendix B lists them, from the encoding constants ("VMCS_GUEST_RIP" -> "GUEST_RIP"). */
#define NAME_ENTRY(enc, feat) #enc,
static const char *const name_by_slot[VMCS12_NFIELDS] = {VMCS12_FIELDS(NAME_ENTRY)};

_Static_assert(VMCS12_NFIELDS < 255, "slot numbers must fit the lookup table");

void vmcs12_slots(const uint32_t *encodings, unsigned count, uint8_t *slots)
{
    for (unsigned i = 0; i < count; i++) {
        int s = vmcs12_slot_of(encodings[i], ~0u);
        slots[i] = (uint8_t)(s < 0 ? 0 : s);
    }
}

uint32_t vmcs12_encoding_of(unsigned slot) { return slot < VMCS12_NFIELDS ? encoding_by_slot[slot] : 0; }

const char *vmcs12_name_of(unsigned slot) { return slot < VMCS12_NFIELDS ? name_by_slot[slot] + 5 : "?"; }

int vmcs12_slot_of(uint64_t e, unsigned features)
{
    /* Bits 63:15 and 12 are reserved; bit 0 (high access) exists only for 64-bit fields. */
    if (e & ~(uint64_t)0x6fff)
        return -1;
    bool high = e & VMCS_ENC_HIGH;
    if (high && VMCS_ENC_WIDTH(e) != VMCS_WIDTH_64)
        return -1;
    if (VMCS_ENC_INDEX(e) > 0x3f)
        return -1;
    unsigned s = slot_by_key[ENC_KEY(e & ~VMCS_ENC_HIGH)];
    if (!s || encoding_by_slot[s - 1] != (e & ~VMCS_ENC_HIGH))
        return -1;
    unsigned need = feature_by_slot[s - 1];
    if (need && !(need & features))
        return -1;
    return (int)(s - 1);
}

static uint64_t width_mask(uint64_t e)
{
    switch (VMCS_ENC_WIDTH(e)) {
    case VMCS_WIDTH_16: return 0xffff;
    case VMCS_WIDTH_32: return 0xffffffffull;
    default: return ~0ull;
    }
}

enum vmcs12_result vmcs12_read(const struct vmcs12 *v, uint64_t e, unsigned features, uint64_t *value)
{
    int s = vmcs12_slot_of(e, features);
    if (s < 0)
        return V12_UNSUPPORTED;
    *value = (e & VMCS_ENC_HIGH) ? v->f[s] >> 32 : v->f[s];
    return V12_OK;
}

enum vmcs12_result vmcs12_write(struct vmcs12 *v, uint64_t e, unsigned features, bool write_any, uint64_t value)
{
    int s = vmcs12_slot_of(e, features);
    if (s < 0)
        return V12_UNSUPPORTED;
    if (VMCS_ENC_TYPE(e) == VMCS_TYPE_RO_DATA && !write_any)
        return V12_READ_ONLY;
    if (e & VMCS_ENC_HIGH)
        v->f[s] = (v->f[s] & 0xffffffffull) | (value << 32);
    else
        v->f[s] = value & width_mask(e);
    return V12_OK;
}

unsigned vmcs12_max_index(unsigned features)
{
    unsigned max = 0;
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++)
        if (!feature_by_slot[s] || (feature_by_slot[s] & features))
            max = VMCS_ENC_INDEX(encoding_by_slot[s]) > max ? VMCS_ENC_INDEX(encoding_by_slot[s]) : max;
    return max;
}
