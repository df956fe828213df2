#!/bin/bash
# Publish the built packages as repositories (run by ci/stage-packages.sh, and again by
# ci/stage-kernel.sh once the kernel packages exist in $XA_OUT/kernel: they join the same
# repositories, so the image stage installs our kernel by apt like our other packages):
#   $XA_OUT/repo/apt/  flat apt repository: the .debs, Packages, Packages.gz, Release,
#                      Release.gpg, InRelease, and the public key xen-autoload-archive.gpg
#                      (binary keyring). A consumer writes:
#                      deb [signed-by=/path/xen-autoload-archive.gpg] file:/path/to/repo/apt ./
#   $XA_OUT/repo/dnf/  dnf repository made with createrepo_c (unsigned: local use; a
#                      consumer sets gpgcheck=0 or passes --nogpgcheck).
# The signing key is generated on first use and kept, without passphrase, in
# $XA_CACHE/apt-signing-gnupg, so consumers' keyrings stay valid between runs.
# Usage: ci/publish-repos.sh                 both repositories, as above
#        ci/publish-repos.sh --apt DEBS REPO  only a flat apt repository REPO of the .debs in
#                                             DEBS, signed with the same key (stage arm64's
#                                             arm64 packages)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

apt_repo=$XA_OUT/repo/apt
dnf_repo=$XA_OUT/repo/dnf
debs=$XA_OUT/debs apt_only=0
if [ "${1:-}" = --apt ]; then
    [ $# -eq 3 ] || xa_die "usage: ci/publish-repos.sh [--apt DEBS REPO]"
    debs=$2 apt_repo=$3 apt_only=1
elif [ $# -gt 0 ]; then
    xa_die "usage: ci/publish-repos.sh [--apt DEBS REPO]"
fi
key_uid="xen-autoload CI archive signing key"
export GNUPGHOME=$XA_CACHE/apt-signing-gnupg

compgen -G "$debs/*.deb" >/dev/null || xa_die "publish-repos: no .deb in $debs"
[ "$apt_only" = 1 ] || compgen -G "$XA_OUT/rpms/*.rpm" >/dev/null || xa_die "publish-repos: no .rpm in $XA_OUT/rpms"

# 1. The signing key (ed25519, no passphrase, no expiry: a CI key for a local repository).
# Made once among concurrent runs (lock apt-signing-key, ci/lib.sh xa_cache_build) in a
# private directory, then renamed into place: two runs never generate two keys into one
# home. A home without the key (a run killed while making it) is replaced.
has_key() { GNUPGHOME=$1 gpg --batch --list-secret-keys "$key_uid" >/dev/null 2>&1; }
make_key() {
    local home=$1
    xa_say "publish-repos: generating the archive signing key for $GNUPGHOME"
    mkdir -m 700 "$home"
    GNUPGHOME=$home gpg --batch --passphrase '' --quick-gen-key "$key_uid" ed25519 sign never
    has_key "$home"
    # The agent serves this directory: stop it before the directory is renamed.
    GNUPGHOME=$home gpgconf --kill gpg-agent || true
}
xa_cache_build --check has_key apt-signing-key "$GNUPGHOME" make_key
fingerprint=$(gpg --batch --with-colons --list-secret-keys "$key_uid" | awk -F: '$1=="fpr"{print $10; exit}')
[ -n "$fingerprint" ] || xa_die "publish-repos: no secret key '$key_uid' in $GNUPGHOME"

# 2. apt: a fresh directory, then swapped in, so a reader never sees a half-written index.
tmp=$apt_repo.new
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$debs"/*.deb "$tmp/"
# Only the kernel image: kbuild's headers/libc-dev packages are not ours to publish.
[ "$apt_only" = 1 ] || find "$XA_OUT/kernel" -maxdepth 1 -name 'linux-image-xen-autoload_*.deb' -exec cp -t "$tmp/" {} + 2>/dev/null || true
(
    cd "$tmp"
    apt-ftparchive packages . >Packages
    gzip -9nk Packages
    apt-ftparchive \
        -o APT::FTPArchive::Release::Origin=xen-autoload \
        -o APT::FTPArchive::Release::Label=xen-autoload \
        -o APT::FTPArchive::Release::Suite=local \
        -o APT::FTPArchive::Release::Codename=local \
        -o "APT::FTPArchive::Release::Description=xen-autoload CI build" \
        release . >"$tmp.Release"
    # Written outside and moved in: a Release inside the directory would list itself.
    mv "$tmp.Release" Release
    gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 --clearsign -o InRelease Release
    gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 -abs -o Release.gpg Release
    gpg --batch --export "$fingerprint" >xen-autoload-archive.gpg
)
# The published signature must verify with the published key alone.
gpgv --keyring "$tmp/xen-autoload-archive.gpg" "$tmp/InRelease" 2>/dev/null ||
    xa_die "publish-repos: InRelease does not verify with xen-autoload-archive.gpg"
rm -rf "$apt_repo"
mv "$tmp" "$apt_repo"
xa_say "publish-repos: apt repository $apt_repo ($(grep -c '^Package:' "$apt_repo/Packages") packages, key $fingerprint)"
[ "$apt_only" = 0 ] || exit 0

# 3. dnf: binary RPMs only (the .src.rpm stays in rpms/).
tmp=$dnf_repo.new
rm -rf "$tmp"
mkdir -p "$tmp"
find "$XA_OUT/rpms" -name '*.rpm' ! -name '*.src.rpm' -exec cp -t "$tmp/" {} +
find "$XA_OUT/kernel" -maxdepth 1 -name 'kernel-xen-autoload-*.rpm' ! -name '*.src.rpm' \
    -exec cp -t "$tmp/" {} + 2>/dev/null || true
createrepo_c --quiet "$tmp"
rm -rf "$dnf_repo"
mv "$tmp" "$dnf_repo"
xa_say "publish-repos: dnf repository $dnf_repo ($(find "$dnf_repo" -name '*.rpm' | wc -l) packages)"
