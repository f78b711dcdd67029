# virt-host-config — see README.md. GNU make.
PACKAGE     := virt-host-config
VERSION     := 0.1.0

prefix      ?= /usr
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
sbindir     ?= $(exec_prefix)/sbin
datadir     ?= $(prefix)/share
mandir      ?= $(datadir)/man
sysconfdir  ?= /etc
localstatedir ?= /var
udevrulesdir ?= $(prefix)/lib/udev/rules.d
DESTDIR     ?=

CC          ?= cc
CFLAGS      ?= -O2 -g
LDFLAGS     ?=
PKG_CONFIG  ?= pkg-config
BUILDDIR    ?= build

# Our warnings live apart from CFLAGS, so rpmbuild's %{build_cflags} replaces
# CFLAGS without dropping them.
WARNFLAGS   := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
               -Wformat=2 -Wvla -Wwrite-strings -Wno-unused-parameter \
               -Wno-missing-field-initializers
BASEFLAGS   := -std=gnu11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Isrc/shared -Isrc/lib

# Every library comes through pkg-config. Each is used by one file only, and
# only that file gets its cflags.
PC_COMMON   := inih json-c libselinux
PC_libpci   := libpci
PC_libkmod  := libkmod
PC_rpm      := rpm
PC_systemd  := libsystemd
PC_xml      := libxml-2.0
PC_ALL      := $(PC_COMMON) $(PC_libpci) $(PC_libkmod) $(PC_rpm) $(PC_systemd) $(PC_xml)
pc_cflags    = $(shell $(PKG_CONFIG) --cflags $(1))
LIBS_ALL    := $(shell $(PKG_CONFIG) --libs $(PC_ALL))

SHARED_SRC  := $(sort $(wildcard src/shared/*.c))
LIB_SRC     := $(sort $(wildcard src/lib/*.c))
HOST_SRC    := $(sort $(wildcard src/host/*.c))
GUEST_SRC   := $(sort $(wildcard src/guest/*.c))
UNIT_SRC    := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz-*.c))

obj          = $(patsubst %.c,$(BUILDDIR)/%.o,$(1))
LIB_OBJ     := $(call obj,$(SHARED_SRC) $(LIB_SRC))
LIBVHC      := $(BUILDDIR)/libvhc.a
HOST_BIN    := $(BUILDDIR)/virt-host-config
GUEST_BIN   := $(if $(GUEST_SRC),$(BUILDDIR)/virt-guest-xml)
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(UNIT_SRC))
# Man pages: docs/NAME.SECTION.scd -> $(BUILDDIR)/NAME.SECTION (scdoc).
MAN_SRC     := $(sort $(wildcard docs/*.scd))
MAN_PAGES   := $(patsubst docs/%.scd,$(BUILDDIR)/%,$(MAN_SRC))

$(BUILDDIR)/src/lib/pcidev.o:  EXTRA_CFLAGS = $(call pc_cflags,$(PC_libpci))
$(BUILDDIR)/src/lib/kmodule.o: EXTRA_CFLAGS = $(call pc_cflags,$(PC_libkmod))
$(BUILDDIR)/src/lib/rpmq.o:    EXTRA_CFLAGS = $(call pc_cflags,$(PC_rpm))
$(BUILDDIR)/src/shared/log.o:  EXTRA_CFLAGS = $(call pc_cflags,$(PC_systemd))
$(BUILDDIR)/src/lib/domxml.o:  EXTRA_CFLAGS = $(call pc_cflags,$(PC_xml))

COMMON_CFLAGS := $(call pc_cflags,$(PC_COMMON))

.SECONDARY:

.PHONY: all check check-unit check-cli check-asan fuzz install clean bench format

all: $(HOST_BIN) $(GUEST_BIN) $(MAN_PAGES)

$(BUILDDIR)/%: docs/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) $(COMMON_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBVHC): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(HOST_BIN): $(call obj,$(HOST_SRC)) $(LIBVHC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

$(BUILDDIR)/virt-guest-xml: $(call obj,$(GUEST_SRC)) $(LIBVHC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

$(BUILDDIR)/tests/%: $(BUILDDIR)/tests/unit/%.o $(LIBVHC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_ALL) $(shell $(PKG_CONFIG) --libs cmocka)

$(BUILDDIR)/tests/unit/%.o: EXTRA_CFLAGS = $(call pc_cflags,cmocka) -DSRCDIR='"$(CURDIR)"'

check: all $(UNIT_BIN)
	@tests/run-tests $(BUILDDIR)

check-unit: all $(UNIT_BIN)
	@tests/run-tests --unit-only $(BUILDDIR)

check-asan:
	$(MAKE) BUILDDIR=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" check

# libFuzzer targets, built with clang into build-fuzz; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIBSRC  := $(SHARED_SRC) $(LIB_SRC)
fuzz:
	@mkdir -p build-fuzz
	$(MAKE) BUILDDIR=build-fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_FLAGS)" build-fuzz/libvhc.a
	@set -e; for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  $(FUZZ_CC) $(BASEFLAGS) $(WARNFLAGS) $(COMMON_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f build-fuzz/libvhc.a $(LIBS_ALL); \
	  mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 \
	    build-fuzz/corpus-$$n tests/fuzz/corpus/$$n 2> build-fuzz/$$n.log \
	    || { tail -n 60 build-fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' build-fuzz/$$n.log; \
	done

install: all
	install -d $(DESTDIR)$(sbindir)
	install -m 0755 $(HOST_BIN) $(DESTDIR)$(sbindir)/virt-host-config
	install -d $(DESTDIR)$(sysconfdir)/virt-host-config
	install -m 0644 config/virt-host-config.conf $(DESTDIR)$(sysconfdir)/virt-host-config/virt-host-config.conf
	install -d -m 0755 $(DESTDIR)$(localstatedir)/lib/virt-host-config

format:
	clang-format -i $(SHARED_SRC) $(LIB_SRC) $(HOST_SRC) $(GUEST_SRC) src/*/*.h $(UNIT_SRC) $(FUZZ_SRC)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)
