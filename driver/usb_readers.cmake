# usb_readers.cmake: the reader list of the USB bundle's Info.plist (issue 4).
#
# pcsc-lite's hot-plug reads three arrays from the bundle's Info.plist,
# ifdVendorID, ifdProductID and ifdFriendlyName (one reader per index), and
# loads the bundle for a plugged USB device whose VID and PID are listed.
# This file turns a plain list into those arrays, so the build needs nothing
# but CMake. The list has one reader a line:
#
#   0xVVVV:0xPPPP:Friendly name
#
# (four hex digits each, any case); blank lines and lines starting with '#'
# are skipped, spaces around the fields are dropped. Refused with a message
# naming the file and line: a line of another form, bad or missing hex, vendor
# 0x0000, an empty name, a name above 100 bytes (pcsc-lite appends " 00 00" and
# more to a 128-byte reader name), control characters, < or > in a name, the
# same VID:PID twice. & in a name is written &amp; (see _tc_xml_text). The simulated reader of
# tests/ccid_sim (0x1209:0x7C01) is added first when the list lacks it.
#
# In a project: include() it and call tc_usb_readers(FILE PREFIX); it sets
# PREFIX_VENDOR_IDS, PREFIX_PRODUCT_IDS, PREFIX_NAMES (the <string> lines of
# the three arrays) and PREFIX_COUNT. As a script (the tests use it):
#   cmake -DREADERS=list -DTEMPLATE=Info.plist.in -DOUT=Info.plist
#         [-DPROJECT_VERSION=x] -P usb_readers.cmake

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  cmake_minimum_required(VERSION 3.20) # the project's policies in script mode too
endif()

set(TC_SIM_READER_VID "0x1209")
set(TC_SIM_READER_PID "0x7C01")
set(TC_SIM_READER_NAME "tokencard simulated CCID reader")

# XML text for a name, which arrives with [ ] ; \ as the placeholders of
# tc_usb_readers (CMake lists would split or group on them). Only & is
# escaped: pcsc-lite's Info.plist reader (1.9.9, tested) decodes &amp; and no
# other entity, so " and ' stay as they are (legal in XML text) and < and >
# are refused before this.
function(_tc_xml_text out raw)
  string(REPLACE "&" "&amp;" s "${raw}")
  string(ASCII 1 semi)
  string(ASCII 2 lbr)
  string(ASCII 3 rbr)
  string(ASCII 4 bsl)
  string(REPLACE "${semi}" ";" s "${s}")
  string(REPLACE "${lbr}" "[" s "${s}")
  string(REPLACE "${rbr}" "]" s "${s}")
  string(REPLACE "${bsl}" "\\" s "${s}")
  set(${out} "${s}" PARENT_SCOPE)
endfunction()

function(_tc_readers_fail file line_no text why)
  message(FATAL_ERROR "${file}:${line_no}: ${why}\n  the line: ${text}\n"
    "  expected: 0xVVVV:0xPPPP:Friendly name (docs/ccid.md, \"Which readers the bundle serves\")")
endfunction()

function(tc_usb_readers file prefix)
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "USB reader list ${file} does not exist (TC_USB_READERS_FILE)")
  endif()
  file(READ "${file}" content)
  # Placeholders for the characters CMake lists treat specially.
  string(ASCII 1 semi)
  string(ASCII 2 lbr)
  string(ASCII 3 rbr)
  string(ASCII 4 bsl)
  # Control characters (but tab, CR, LF) are refused before the placeholders
  # below take four of them.
  set(ctl "")
  foreach(c RANGE 1 31)
    if(NOT c EQUAL 9 AND NOT c EQUAL 10 AND NOT c EQUAL 13)
      string(ASCII ${c} ch)
      string(APPEND ctl "${ch}")
    endif()
  endforeach()
  string(ASCII 127 ch)
  if(content MATCHES "[${ctl}${ch}]")
    message(FATAL_ERROR "${file}: a control character in the reader list")
  endif()
  string(REPLACE "\\" "${bsl}" content "${content}")
  string(REPLACE ";" "${semi}" content "${content}")
  string(REPLACE "[" "${lbr}" content "${content}")
  string(REPLACE "]" "${rbr}" content "${content}")
  string(REPLACE "\r" "" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")

  set(vids "")
  set(pids "")
  set(names "")
  set(seen "")
  set(seen_lines "")
  set(line_no 0)
  foreach(line IN LISTS lines)
    math(EXPR line_no "${line_no} + 1")
    string(STRIP "${line}" line)
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    endif()
    if(NOT line MATCHES "^([^:]*):([^:]*):(.*)$")
      _tc_readers_fail("${file}" ${line_no} "${line}" "not three fields separated by ':'")
    endif()
    string(STRIP "${CMAKE_MATCH_1}" vid)
    string(STRIP "${CMAKE_MATCH_2}" pid)
    string(STRIP "${CMAKE_MATCH_3}" name)
    foreach(id IN ITEMS vid pid)
      if(NOT "${${id}}" MATCHES "^0[xX][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$")
        _tc_readers_fail("${file}" ${line_no} "${line}"
          "bad ${id} \"${${id}}\": want 0x and four hex digits")
      endif()
      string(SUBSTRING "${${id}}" 2 4 digits)
      string(TOUPPER "${digits}" digits)
      set(${id} "0x${digits}")
    endforeach()
    if(vid STREQUAL "0x0000")
      _tc_readers_fail("${file}" ${line_no} "${line}" "vendor ID 0x0000 is not a USB vendor")
    endif()
    if(name STREQUAL "")
      _tc_readers_fail("${file}" ${line_no} "${line}" "empty friendly name")
    endif()
    if(name MATCHES "\t")
      _tc_readers_fail("${file}" ${line_no} "${line}" "a tab in the friendly name")
    endif()
    if(name MATCHES "[<>]")
      _tc_readers_fail("${file}" ${line_no} "${line}"
        "< or > in the friendly name (pcsc-lite reads no &lt; or &gt; in Info.plist)")
    endif()
    string(LENGTH "${name}" len)
    if(len GREATER 100)
      _tc_readers_fail("${file}" ${line_no} "${line}" "friendly name of ${len} bytes (at most 100)")
    endif()
    list(FIND seen "${vid}:${pid}" dup)
    if(dup GREATER -1)
      list(GET seen_lines ${dup} first)
      _tc_readers_fail("${file}" ${line_no} "${line}" "${vid}:${pid} already on line ${first}")
    endif()
    list(APPEND seen "${vid}:${pid}")
    list(APPEND seen_lines ${line_no})
    list(APPEND vids "${vid}")
    list(APPEND pids "${pid}")
    list(APPEND names "${name}")
  endforeach()

  list(FIND seen "${TC_SIM_READER_VID}:${TC_SIM_READER_PID}" sim)
  if(sim EQUAL -1)
    list(INSERT vids 0 "${TC_SIM_READER_VID}")
    list(INSERT pids 0 "${TC_SIM_READER_PID}")
    list(INSERT names 0 "${TC_SIM_READER_NAME}")
  endif()

  set(v "")
  set(p "")
  set(n "")
  list(LENGTH vids count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    list(GET vids ${i} vid)
    list(GET pids ${i} pid)
    list(GET names ${i} name)
    _tc_xml_text(name "${name}")
    string(APPEND v "\t\t<string>${vid}</string>\n")
    string(APPEND p "\t\t<string>${pid}</string>\n")
    string(APPEND n "\t\t<string>${name}</string>\n")
  endforeach()
  set(${prefix}_VENDOR_IDS "${v}" PARENT_SCOPE)
  set(${prefix}_PRODUCT_IDS "${p}" PARENT_SCOPE)
  set(${prefix}_NAMES "${n}" PARENT_SCOPE)
  set(${prefix}_COUNT ${count} PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  foreach(var READERS TEMPLATE OUT)
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "usage: cmake -DREADERS=list -DTEMPLATE=Info.plist.in -DOUT=file -P usb_readers.cmake")
    endif()
  endforeach()
  if(NOT DEFINED PROJECT_VERSION)
    set(PROJECT_VERSION 0)
  endif()
  tc_usb_readers("${READERS}" TC_USB_READERS)
  configure_file("${TEMPLATE}" "${OUT}" @ONLY)
endif()
