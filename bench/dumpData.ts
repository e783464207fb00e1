/**
 * Synthetic waldofied dumps for the setup-sql benchmark: `<dir>/<ORG-NUM-RUN>/<date>/*.csv.gz` in
 * the project's CSV convention (src/dump/tsv.ts), for many courses at once. Cheaper than the full
 * dump generator at this scale (10M studentmodule rows), and the floor reads the very same files.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { csvLine } from '../src/dump/tsv.ts';

export interface DumpBenchOptions {
  dir: string;
  courses: number;
  enrollmentsPerCourse: number;
  studentmodulePerCourse: number;
  date: string;
}

/** A gzip writer that keeps memory flat: lines are buffered and compressed in blocks. */
class GzCsv {
  private readonly out: fs.WriteStream;
  private readonly gz: zlib.Gzip;
  private buf: string[] = [];
  private len = 0;
  constructor(file: string) {
    this.gz = zlib.createGzip({ level: 1 });
    this.out = fs.createWriteStream(file);
    this.gz.pipe(this.out);
  }
  async row(cells: (string | null)[]): Promise<void> {
    const line = csvLine(cells);
    this.buf.push(line);
    this.len += line.length;
    if (this.len > 1 << 20) await this.flush();
  }
  private async flush(): Promise<void> {
    const chunk = this.buf.join('');
    this.buf = [];
    this.len = 0;
    if (!this.gz.write(chunk)) await new Promise<void>((r) => this.gz.once('drain', () => r()));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.out.on('finish', resolve).on('error', reject);
      this.gz.end();
    });
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const ts = (i: number) => `2015-${pad(1 + (i % 12))}-${pad(1 + (i % 28))} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`;

export async function writeDumpBenchData(o: DumpBenchOptions): Promise<{ courses: string[]; rows: Record<string, number> }> {
  const courses: string[] = [];
  const rows: Record<string, number> = {};
  const count = (t: string, n: number) => (rows[t] = (rows[t] ?? 0) + n);
  for (let c = 0; c < o.courses; c++) {
    const id = `BenchX/C${c}/2015_T1`;
    courses.push(id);
    const dir = path.join(o.dir, id.replace(/\//g, '-'), o.date);
    fs.mkdirSync(dir, { recursive: true });
    const base = c * o.enrollmentsPerCourse;
    const n = o.enrollmentsPerCourse;
    const users = new GzCsv(path.join(dir, 'users.csv.gz'));
    await users.row(['id', 'username', 'first_name', 'last_name', 'email', 'password', 'is_staff', 'is_active', 'is_superuser', 'last_login', 'date_joined']);
    const profiles = new GzCsv(path.join(dir, 'profiles.csv.gz'));
    await profiles.row(['id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education', 'goals', 'allow_certificate', 'country', 'city']);
    const enrollment = new GzCsv(path.join(dir, 'enrollment.csv.gz'));
    await enrollment.row(['id', 'user_id', 'course_id', 'created', 'is_active', 'mode']);
    const certificates = new GzCsv(path.join(dir, 'certificates.csv.gz'));
    await certificates.row(['id', 'user_id', 'download_url', 'grade', 'course_id', 'key', 'distinction', 'status', 'verify_uuid', 'download_uuid', 'name', 'created_date', 'modified_date', 'error_reason', 'mode']);
    const idMap = new GzCsv(path.join(dir, 'user_id_map.csv.gz'));
    await idMap.row(['hash_id', 'id', 'username']);
    const roles = new GzCsv(path.join(dir, 'roleforum.csv.gz'));
    await roles.row(['user_id', 'course_id', 'name']);
    for (let i = 0; i < n; i++) {
      const uid = String(base + i + 1);
      const name = `learner${base + i}`;
      await users.row([uid, name, 'First', i % 7 === 0 ? null : 'Last', `${name}@example.org`, 'pbkdf2$x', '0', '1', '0', i % 3 ? ts(i) : null, ts(i + 1)]);
      await profiles.row([uid, uid, `Learner ${i}`, '', '', '', null, 'mfo'[i % 3]!, '', String(1960 + (i % 45)), 'b', 'learn things', '1', 'US', 'Boston']);
      await enrollment.row([uid, uid, id, ts(i), i % 10 ? '1' : '0', ['honor', 'audit', 'verified'][i % 3]!]);
      if (i % 10 === 0) await certificates.row([uid, uid, '', (0.5 + (i % 50) / 100).toFixed(2), id, 'k', '0', 'downloadable', 'v', 'd', `Learner ${i}`, ts(i), ts(i), '', 'honor']);
      await idMap.row([`h${uid}`, uid, name]);
      await roles.row([uid, id, 'Student']);
    }
    count('users', n);
    count('profiles', n);
    count('enrollment', n);
    count('certificates', Math.ceil(n / 10));
    count('user_id_map', n);
    count('roleforum', n);
    await Promise.all([users.close(), profiles.close(), enrollment.close(), certificates.close(), idMap.close(), roles.close()]);
    const sm = new GzCsv(path.join(dir, 'studentmodule.csv.gz'));
    await sm.row(['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id']);
    for (let i = 0; i < o.studentmodulePerCourse; i++) {
      const problem = i % 3 === 0;
      const mid = problem ? `block-v1:BenchX+C${c}+2015_T1+type@problem+block@p${i % 200}` : `i4x://BenchX/C${c}/chapter/ch${i % 12}`;
      const state = problem ? `{"attempts": ${1 + (i % 3)}, "correct_map": {"p${i % 200}_2_1": {"correctness": "correct"}}, "student_answers": {"p${i % 200}_2_1": "choice_${i % 4}"}, "done": true}` : `{"position": ${1 + (i % 5)}}`;
      await sm.row([String(c * o.studentmodulePerCourse + i + 1), problem ? 'problem' : 'chapter', mid, String(base + (i % n) + 1), state, problem ? String(i % 3) : null, ts(i), ts(i + 3), problem ? '2' : null, 'na', `course-v1:BenchX+C${c}+2015_T1`]);
    }
    count('studentmodule', o.studentmodulePerCourse);
    await sm.close();
  }
  return { courses, rows };
}
