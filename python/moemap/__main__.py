"""python3 -m moemap — the package's command line, for CLI users with SGLang's .pt dumps.

  python3 -m moemap convert DUMP OUT.json [--top-k K] [--batch-tokens N]
      reads any input read_loads reads (SGLang's torch.save .pt dumps included) and
      writes moemap.loads/v1, which every `moemap` command reads
  python3 -m moemap info      the version and which libmoemap.so was loaded, and how
"""

import argparse
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m moemap",
                                 description="moemap's Python package: convert SGLang .pt "
                                             "dumps, show which libmoemap is loaded")
    sub = ap.add_subparsers(dest="cmd", required=True)
    cv = sub.add_parser("convert", help="write any workload input (SGLang .pt included) as "
                                        "moemap.loads/v1")
    cv.add_argument("input")
    cv.add_argument("out")
    cv.add_argument("--top-k", type=int, help="experts per token of the model (SGLang "
                                              "dumps do not record it)")
    cv.add_argument("--batch-tokens", type=int, help="tokens per batch of per-token traces")
    cv.add_argument("--format", help="loads, sglang, csv, esft or pt (default: detected)")
    sub.add_parser("info", help="version and the libmoemap.so in use")
    args = ap.parse_args(argv)
    try:
        import moemap
        if args.cmd == "info":
            print("moemap %s\nlibrary: %s (found via %s)" % (
                moemap.version, moemap.library_path, moemap.library_origin))
            return 0
        ld = moemap.read_loads(args.input, format=args.format, top_k=args.top_k,
                               batch_tokens=args.batch_tokens)
        ld.write(args.out)
        print("%s: %d batches x %d MoE layers x %d experts -> %s" % (
            args.input, ld.num_batches, len(ld.layers), ld.experts, args.out))
        return 0
    except (ImportError, OSError) as e:
        print("moemap: %s" % e, file=sys.stderr)
        return 1
    except Exception as e:
        if type(e).__name__ == "MoemapError":
            print("moemap: %s" % e, file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
