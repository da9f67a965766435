import os, re, subprocess, sys
os.chdir('/work/main')
files = subprocess.run(['git','ls-files'], capture_output=True, text=True).stdout.split()
headers = {}
for f in files:
    if f.endswith('.hpp'):
        headers.setdefault(os.path.basename(f), []).append(f)
pat = re.compile(r'^(\s*#\s*include\s+)"([^"]+)"', re.M)
changed = 0
for f in files:
    if not (f.endswith(('.cpp', '.hpp', '.cpp.in'))) or '/corpus/' in f:
        continue
    text = open(f).read()
    def repl(m):
        name = m.group(2)
        if '/' in name:
            return m.group(0)
        cands = headers.get(name)
        if not cands:
            print(f'{f}: unresolved {name}', file=sys.stderr)
            return m.group(0)
        if len(cands) > 1:
            same = [c for c in cands if os.path.dirname(c) == os.path.dirname(f)]
            if len(same) != 1:
                print(f'{f}: ambiguous {name} {cands}', file=sys.stderr); return m.group(0)
            c = same[0]
        else:
            c = cands[0]
        return m.group(1) + '"' + c + '"'
    new = pat.sub(repl, text)
    if new != text:
        open(f, 'w').write(new); changed += 1
print('changed', changed)
