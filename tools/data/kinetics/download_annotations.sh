#!/usr/bin/env bash
# Download the Kinetics-400 annotation CSVs (train, val, test) from the
# CVDF mirror (https://github.com/cvdfoundation/kinetics-dataset):
#   https://s3.amazonaws.com/kinetics/400/annotations/{train,val,test}.csv
# Header: label,youtube_id,time_start,time_end,split (+ is_cc in some).
# The same CSVs (the DeepMind release) are also in
#   https://storage.googleapis.com/deepmind-media/Datasets/kinetics400.tar.gz
#
# usage: bash tools/data/kinetics/download_annotations.sh [OUT_DIR]
#        (default OUT_DIR: data/kinetics400/annotations)
# Each file is fetched into a temporary name and renamed when complete; a
# file already there is kept. Never run by the tests (it needs the network).
set -euo pipefail

OUT_DIR=${1:-data/kinetics400/annotations}
BASE_URL=https://s3.amazonaws.com/kinetics/400/annotations
mkdir -p "$OUT_DIR"
for split in train val test; do
    final="$OUT_DIR/$split.csv"
    if [ -s "$final" ]; then
        echo "$final exists, kept"
        continue
    fi
    partial="$OUT_DIR/.$split.csv.partial-$$"
    trap 'rm -f "$partial"' EXIT
    wget --no-verbose --show-progress -O "$partial" "$BASE_URL/$split.csv"
    mv "$partial" "$final"
    echo "$final: $(($(wc -l < "$final") - 1)) clips"
done
