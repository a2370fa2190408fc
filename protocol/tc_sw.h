/* tc_sw.h: ISO/IEC 7816-4 status words (SW1 SW2) and their meanings.
 *
 * Only the meanings ISO/IEC 7816-4 gives; a status word it leaves to the
 * application (9xxx but 9000, undefined SW2 values) is named by its group.
 * Parameterised status words (61xx, 6Cxx, 63Cx, the "triggering" ranges)
 * have their parameter spelled out in the text. */
#ifndef TC_SW_H
#define TC_SW_H

#include <stddef.h>
#include <stdint.h>

/* Normal processing */
#define TC_SW_OK              0x9000 /* no further qualification */
#define TC_SW_BYTES_AVAILABLE 0x6100 /* | xx: xx bytes still available (00 = 256) */

/* Warnings */
#define TC_SW_WARNING          0x6200 /* NV memory unchanged, no information */
#define TC_SW_DATA_CORRUPTED   0x6281 /* part of returned data may be corrupted */
#define TC_SW_END_OF_FILE      0x6282 /* end of file/record before Ne bytes */
#define TC_SW_FILE_DEACTIVATED 0x6283 /* selected file deactivated */
#define TC_SW_FCI_FORMAT       0x6284 /* FCI not formatted per 7816-4 */
#define TC_SW_FILE_TERMINATED  0x6285 /* selected file in termination state */
#define TC_SW_NO_SENSOR_DATA   0x6286 /* no input data from a sensor */
#define TC_SW_WARNING_CHANGED  0x6300 /* NV memory changed, no information */
#define TC_SW_FILE_FILLED      0x6381 /* file filled up by the last write */
#define TC_SW_COUNTER          0x63C0 /* | x: counter x (0..15) */

/* Execution errors */
#define TC_SW_EXEC_ERROR         0x6400 /* NV memory unchanged */
#define TC_SW_IMMEDIATE_RESPONSE 0x6401 /* immediate response required */
#define TC_SW_EXEC_ERROR_CHANGED 0x6500 /* NV memory changed */
#define TC_SW_MEMORY_FAILURE     0x6581 /* memory failure */
#define TC_SW_SECURITY_ISSUE     0x6600 /* security-related issue */

/* Checking errors */
#define TC_SW_WRONG_LENGTH           0x6700
#define TC_SW_CLA_FUNCTION           0x6800 /* function in CLA not supported */
#define TC_SW_LOGICAL_CHANNEL        0x6881 /* logical channel not supported */
#define TC_SW_SM_NOT_SUPPORTED       0x6882 /* secure messaging not supported */
#define TC_SW_LAST_OF_CHAIN          0x6883 /* last command of chain expected */
#define TC_SW_CHAINING_NOT_SUPPORTED 0x6884 /* command chaining not supported */
#define TC_SW_NOT_ALLOWED            0x6900 /* command not allowed */
#define TC_SW_INCOMPATIBLE_FILE      0x6981 /* incompatible with file structure */
#define TC_SW_SECURITY_NOT_SATISFIED 0x6982 /* security status not satisfied */
#define TC_SW_AUTH_BLOCKED           0x6983 /* authentication method blocked */
#define TC_SW_REF_DATA_NOT_USABLE    0x6984 /* reference data not usable */
#define TC_SW_CONDITIONS             0x6985 /* conditions of use not satisfied */
#define TC_SW_NO_CURRENT_EF          0x6986 /* command not allowed (no current EF) */
#define TC_SW_SM_MISSING             0x6987 /* expected SM data objects missing */
#define TC_SW_SM_INCORRECT           0x6988 /* incorrect SM data objects */
#define TC_SW_WRONG_PARAMS           0x6A00 /* wrong P1-P2, no information */
#define TC_SW_WRONG_DATA             0x6A80 /* incorrect data field parameters */
#define TC_SW_FUNC_NOT_SUPPORTED     0x6A81 /* function not supported */
#define TC_SW_FILE_NOT_FOUND         0x6A82 /* file or application not found */
#define TC_SW_RECORD_NOT_FOUND       0x6A83 /* record not found */
#define TC_SW_NOT_ENOUGH_MEMORY      0x6A84 /* not enough memory space in file */
#define TC_SW_NC_TLV                 0x6A85 /* Nc inconsistent with TLV structure */
#define TC_SW_WRONG_P1P2             0x6A86 /* incorrect parameters P1-P2 */
#define TC_SW_NC_P1P2                0x6A87 /* Nc inconsistent with P1-P2 */
#define TC_SW_DATA_NOT_FOUND         0x6A88 /* referenced data not found */
#define TC_SW_FILE_EXISTS            0x6A89 /* file already exists */
#define TC_SW_DF_NAME_EXISTS         0x6A8A /* DF name already exists */
#define TC_SW_WRONG_P1P2_NOINFO      0x6B00 /* wrong parameters P1-P2 */
#define TC_SW_WRONG_LE               0x6C00 /* | xx: wrong Le, xx available (00 = 256) */
#define TC_SW_INS_NOT_SUPPORTED      0x6D00 /* INS not supported or invalid */
#define TC_SW_CLA_NOT_SUPPORTED      0x6E00 /* CLA not supported */
#define TC_SW_NO_DIAGNOSIS           0x6F00 /* no precise diagnosis */

/* The ISO 7816-4 category of a status word. */
enum tc_sw_kind {
	TC_SW_KIND_NORMAL,      /* 9000, 61xx */
	TC_SW_KIND_WARNING,     /* 62xx, 63xx */
	TC_SW_KIND_EXEC_ERROR,  /* 64xx, 65xx, 66xx */
	TC_SW_KIND_CHECK_ERROR, /* 67xx .. 6Fxx */
	TC_SW_KIND_PROPRIETARY, /* 9xxx but 9000: left to the application */
	TC_SW_KIND_INVALID,     /* SW1 not 6X (X != 0) or 9X: not a status word */
};

/* The category of sw. */
enum tc_sw_kind tc_sw_kind(uint16_t sw);

/* "normal processing", "warning", "execution error", "checking error",
 * "proprietary", "invalid status word". Never NULL. */
const char *tc_sw_kind_name(enum tc_sw_kind kind);

/* Write the meaning of sw into buf (n bytes, NUL-terminated, truncated when
 * too small), e.g. "wrong Le field: 16 data bytes available" for 6C10, and
 * return buf. Returns "" (a constant) when buf is NULL or n is 0. */
const char *tc_sw_meaning(uint16_t sw, char *buf, size_t n);

/* Enough for every meaning tc_sw_meaning() writes. */
#define TC_SW_MEANING_MAX 96

/* The status word of a response: its last two bytes; -1 when len < 2. */
int tc_sw_of(const uint8_t *resp, size_t len);

#endif
