#!/usr/bin/env bash
# Download and unpack the Kinetics-400 videos of one split from the CVDF
# archive mirror (https://github.com/cvdfoundation/kinetics-dataset). The
# list of its .tar.gz parts is
#   https://s3.amazonaws.com/kinetics/400/{train,val,test}/k400_{split}_path.txt
# The archives hold the clips flat (no class folders), named
# {youtube_id}_{time_start:06d}_{time_end:06d}.mp4: list them with
# build_file_list.py --csv ... --class-dirs flat. About 450 GB for all splits
# (train is most of it); some clips are missing: count them with
# check_present.py. The CVDF page also lists replacements for corrupted clips.
#
# usage: bash tools/data/kinetics/download_videos.sh SPLIT [DATA_DIR]
#        SPLIT: train, val or test; DATA_DIR default: data/kinetics400
# Writes DATA_DIR/tars/SPLIT/part_*.tar.gz (resumable: wget -c) and unpacks
# each into DATA_DIR/videos_SPLIT, marking it done so that a rerun skips it.
# Delete DATA_DIR/tars afterwards to free the space. Never run by the tests.
set -euo pipefail

SPLIT=${1:?usage: download_videos.sh train|val|test [DATA_DIR]}
DATA_DIR=${2:-data/kinetics400}
case "$SPLIT" in
    train|val|test) ;;
    *) echo "error: SPLIT must be train, val or test, got '$SPLIT'" >&2; exit 2 ;;
esac
LIST_URL="https://s3.amazonaws.com/kinetics/400/$SPLIT/k400_${SPLIT}_path.txt"
TARS="$DATA_DIR/tars/$SPLIT"
VIDEOS="$DATA_DIR/videos_$SPLIT"
mkdir -p "$TARS" "$VIDEOS"

wget --no-verbose -O "$TARS/k400_${SPLIT}_path.txt" "$LIST_URL"
total=$(grep -c . "$TARS/k400_${SPLIT}_path.txt")
n=0
while read -r url; do
    [ -n "$url" ] || continue
    n=$((n + 1))
    name=$(basename "$url")
    if [ -e "$TARS/$name.done" ]; then
        echo "[$n/$total] $name already unpacked"
        continue
    fi
    echo "[$n/$total] $name"
    wget --no-verbose --show-progress -c -P "$TARS" "$url"
    tar -xzf "$TARS/$name" -C "$VIDEOS"
    touch "$TARS/$name.done"
done < "$TARS/k400_${SPLIT}_path.txt"
echo "$(find "$VIDEOS" -name '*.mp4' | wc -l) clips in $VIDEOS"
