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
unitdir     ?= $(prefix)/lib/systemd/system
presetdir   ?= $(prefix)/lib/systemd/system-preset
# Fixed paths, not prefix-relative: the udev rule tests the first (root.c),
# bootc reads the second.
pkglibdir   := /usr/lib/virt-host-config
bootckargsdir := /usr/lib/bootc/kargs.d
DESTDIR     ?=
INSTALL     ?= install

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
BASEFLAGS   := -std=gnu11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Isrc/shared -Isrc/lib -Isrc/lib/boot

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
LIB_SRC     := $(sort $(wildcard src/lib/*.c src/lib/boot/*.c))
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

# The lifecycle test builds its own RPMs with rpmbuild: once, in make check, is
# enough; so are the 570 runs of the tampered-state corpus (fuzz-state runs the
# parser under ASan) and 40 of the 50 race rounds, which keep CI in its hour.
check-asan:
	VHC_LIFECYCLE=0 CONFINE_CORPUS=0 VHC_RACE_ROUNDS=10 $(MAKE) BUILDDIR=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" check

# libFuzzer targets, built with clang into build-fuzz; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
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
	  build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
	    build-fuzz/corpus-$$n tests/fuzz/corpus/$$n 2> build-fuzz/$$n.log \
	    || { tail -n 60 build-fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' build-fuzz/$$n.log; \
	done

install: all install-completion
	$(INSTALL) -d $(DESTDIR)$(sbindir)
	$(INSTALL) -m 0755 $(HOST_BIN) $(DESTDIR)$(sbindir)/virt-host-config
	$(if $(GUEST_BIN),$(INSTALL) -d $(DESTDIR)$(bindir))
	$(if $(GUEST_BIN),$(INSTALL) -m 0755 $(GUEST_BIN) $(DESTDIR)$(bindir)/virt-guest-xml)
	$(INSTALL) -d $(DESTDIR)$(sysconfdir)/virt-host-config
	$(INSTALL) -m 0644 config/virt-host-config.conf $(DESTDIR)$(sysconfdir)/virt-host-config/virt-host-config.conf
	$(INSTALL) -d $(DESTDIR)$(udevrulesdir)
	$(INSTALL) -m 0644 config/70-virt-host-config-vfio-kvm.rules $(DESTDIR)$(udevrulesdir)/70-virt-host-config-vfio-kvm.rules
	$(INSTALL) -d $(DESTDIR)$(pkglibdir) $(DESTDIR)$(bootckargsdir) $(DESTDIR)$(unitdir) $(DESTDIR)$(presetdir)
	$(INSTALL) -m 0644 config/host-installed $(DESTDIR)$(pkglibdir)/host-installed
	$(INSTALL) -m 0644 config/bootc/10-virt-host-config.toml $(DESTDIR)$(bootckargsdir)/10-virt-host-config.toml
	$(INSTALL) -m 0644 config/systemd/virt-host-config-first-boot.service $(DESTDIR)$(unitdir)/virt-host-config-first-boot.service
	$(INSTALL) -m 0644 config/systemd/80-virt-host-config.preset $(DESTDIR)$(presetdir)/80-virt-host-config.preset
	$(INSTALL) -d -m 0755 $(DESTDIR)$(localstatedir)/lib/virt-host-config
	@set -e; for m in $(MAN_PAGES); do \
	  s=$${m##*.}; \
	  echo "$(INSTALL) -m 0644 $$m $(DESTDIR)$(mandir)/man$$s/"; \
	  $(INSTALL) -d $(DESTDIR)$(mandir)/man$$s; \
	  $(INSTALL) -m 0644 $$m $(DESTDIR)$(mandir)/man$$s/; \
	done

format:
	clang-format -i $(SHARED_SRC) $(LIB_SRC) $(HOST_SRC) $(GUEST_SRC) src/*/*.h $(UNIT_SRC) $(FUZZ_SRC)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILDDIR) -type f -name '*.d' 2>/dev/null)

# --- packaging (h6) ---
# make dist: $(BUILDDIR)/virt-host-config-VERSION.tar.gz from the working tree
# (scripts/make-dist); make srpm / rpm: rpmbuild in $(BUILDDIR)/rpmbuild;
# make mock: the SRPM rebuilt in mock (MOCK_CONFIG); make rpmlint; make
# check-lifecycle: dnf install / upgrade / remove in a test root (root or
# unshare -r; see tests/lifecycle/run).
SPEC        := SPECS/$(PACKAGE).spec
TARBALL     := $(BUILDDIR)/$(PACKAGE)-$(VERSION).tar.gz
RPMTOPDIR   ?= $(abspath $(BUILDDIR))/rpmbuild
# rpmbuild runs in a clean environment: make exports its command-line
# variables (BUILDDIR, CFLAGS...), which would leak into the package build.
RPMBUILD    ?= env -i PATH="$(PATH)" HOME="$(HOME)" rpmbuild
RPMBUILD_FLAGS ?=
MOCK_CONFIG ?= mock/fedora-current-x86_64.cfg
# BuildRequires are checked against the system's rpmdb; where rpm is not the
# system's package manager (Debian, Ubuntu) that db is empty, so skip the check.
RPM_NODEPS   = $(shell if [ -e /etc/debian_version ] || ! rpm -q rpm >/dev/null 2>&1; then echo --nodeps; fi)
RPM_DEFINES  = --define "_topdir $(RPMTOPDIR)" --define "_sourcedir $(abspath $(BUILDDIR))"

.PHONY: dist srpm rpm mock rpmlint check-lifecycle

dist:
	scripts/make-dist $(PACKAGE) $(VERSION) $(TARBALL)

# The unpacked sources and the buildroot go to a temporary directory: the
# sources hold directories named *.d (udev/rules.d), which this Makefile's
# "-include" of $(BUILDDIR)/**/*.d would try to read.
RPMBUILD_TMP = tmp=$$(mktemp -d /var/tmp/$(PACKAGE)-rpmbuild.XXXXXX); trap 'rm -rf "$$tmp"' EXIT
RPMBUILD_TMPDEFS = --define "_builddir $$tmp/BUILD" --define "_buildrootdir $$tmp/BUILDROOT"

# Old packages of ours go first, so that the globs below see only this build.
srpm: dist
	@rm -f $(RPMTOPDIR)/SRPMS/$(PACKAGE)-*.src.rpm
	@$(RPMBUILD_TMP); set -x; \
	$(RPMBUILD) -bs $(RPM_NODEPS) $(RPM_DEFINES) $(RPMBUILD_TMPDEFS) $(RPMBUILD_FLAGS) $(SPEC)

rpm: dist
	@rm -f $(RPMTOPDIR)/RPMS/*/$(PACKAGE)-*.rpm
	@$(RPMBUILD_TMP); set -x; \
	$(RPMBUILD) -bb $(RPM_NODEPS) $(RPM_DEFINES) $(RPMBUILD_TMPDEFS) $(RPMBUILD_FLAGS) $(SPEC)

# MOCK_FLAGS: more mock options (--isolation=simple in a container).
MOCK_FLAGS  ?=
mock: srpm
	mock/build --config $(MOCK_CONFIG) \
	  --resultdir $(abspath $(BUILDDIR))/mock/$(basename $(notdir $(MOCK_CONFIG))) \
	  $(RPMTOPDIR)/SRPMS/$(PACKAGE)-$(VERSION)-*.src.rpm $(MOCK_FLAGS)

# Fedora's rpmlint brings Fedora's configuration; elsewhere pass our stand-in for it.
RPMLINT_CONFIG = $(if $(RPM_NODEPS),-c scripts/rpmlint-outside-fedora.toml)

rpmlint: srpm rpm
	rpmlint $(RPMLINT_CONFIG) -r $(PACKAGE).rpmlintrc $(SPEC) \
	  $(RPMTOPDIR)/SRPMS/$(PACKAGE)-$(VERSION)-*.src.rpm $(RPMTOPDIR)/RPMS/*/$(PACKAGE)-*$(VERSION)-*.rpm

check-lifecycle:
	tests/lifecycle/run

# --- bench guest (h7) ---
# virt-guest-xml against virt-install --print-xml on libvirt's test driver for
# the same guest: medians and ratio (target 50x). BENCH_RUNS, BENCH_RUNS_VI,
# BENCH_STRICT=1 (a missed target fails).
.PHONY: bench-guest
bench-guest: $(BUILDDIR)/virt-guest-xml
	scripts/bench-guest $(BUILDDIR)/virt-guest-xml

# --- bench (h4) ---
# make bench: 'virt-host-config list' on a generated machine of 512 PCI
# devices in 200 IOMMU groups, against 'lspci -nn' on the same tree and the
# usual shell loop over /sys/kernel/iommu_groups running lspci per device:
# medians and ratios (targets: within 3x of lspci, 20x faster than the loop).
# BENCH_RUNS runs each; BENCH_STRICT=1 makes a missed target fail.
BENCH_RUNS ?= 15
bench: $(HOST_BIN)
	scripts/bench-list $(HOST_BIN) $(BENCH_RUNS)

# --- check-vm (h8) ---
# make check-vm: our RPMs installed, verified after a reboot, removed and
# compared with the baseline, in a Debian guest booted by QEMU (KVM where it
# works, else TCG), plus a negative control that must fail. Needs root
# (debootstrap, chroot) and the packages of scripts/install-deps; writes only
# under $(BUILDDIR)/vm. See tests/vm/check-vm and docs/check-vm.md.
.PHONY: check-vm
check-vm:
	$(MAKE) rpm RPMBUILD_FLAGS="$(RPMBUILD_FLAGS) --without check"
	tests/vm/check-vm $(BUILDDIR) $(RPMTOPDIR)/RPMS/*/$(PACKAGE)-*$(VERSION)-*.rpm

# --- completion (h12) ---
# make install-completion: bash, zsh and fish completion of both programs
# (completion/). bash-completion's own directory under $(prefix) when its
# pkg-config file is there, else $(datadir)/bash-completion/completions.
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --define-variable=prefix=$(prefix) \
                 --variable=completionsdir bash-completion 2>/dev/null),$(datadir)/bash-completion/completions)
ZSHCOMPDIR  ?= $(datadir)/zsh/site-functions
FISHCOMPDIR ?= $(datadir)/fish/vendor_completions.d
.PHONY: install-completion
install-completion:
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 0644 completion/virt-host-config completion/virt-guest-xml $(DESTDIR)$(BASHCOMPDIR)/
	$(INSTALL) -m 0644 completion/_virt-host-config completion/_virt-guest-xml $(DESTDIR)$(ZSHCOMPDIR)/
	$(INSTALL) -m 0644 completion/virt-host-config.fish completion/virt-guest-xml.fish $(DESTDIR)$(FISHCOMPDIR)/
