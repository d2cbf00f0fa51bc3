import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormatError } from '../../../src/errors.js';
import { need, parseVmcoreinfo, vmcoreinfoText } from '../../../src/kdump/vmcoreinfo.js';
import { REAL_VMCOREINFO_6_1 } from './real-vmcoreinfo.js';

describe('VMCOREINFO', () => {
  it('parses the real 6.1 note (LA57, KASLR, negative phys_base)', () => {
    const v = parseVmcoreinfo(REAL_VMCOREINFO_6_1);
    assert.equal(v.osrelease, '6.1.0-56-amd64');
    assert.equal(v.buildId, 'eb4fbcd037e7253717950bf2b93bd5566f47c56f');
    assert.equal(v.pageSize, 4096);
    assert.equal(v.crashTime, 1795347475);
    assert.equal(v.kernelOffset, 0x24800000n);
    assert.equal(v.symbols['prb'], 0xffffffffa72643e0n);
    assert.equal(v.symbols['mem_section'], 0xff34e18eff249000n);
    assert.equal(v.sizes['printk_ringbuffer'], 88);
    assert.equal(v.offsets['printk_ringbuffer.text_data_ring'], 48);
    assert.equal(v.offsets['pglist_data.nr_zones'], 171552);
    assert.equal(v.numbers['phys_base'], -226492416n);
    assert.equal(v.numbers['PAGE_BUDDY_MAPCOUNT_VALUE'], -129n);
    assert.equal(v.numbers['pgtable_l5_enabled'], 1n);
    assert.equal(v.lengths['mem_section'], 262144);
    assert.equal(v.lengths['printk_info_device'], 48);
    assert.equal(v.entries.length, 110);
    assert.deepEqual(v.malformed, []);
  });

  it('takes 0x-prefixed NUMBER values, CONFIG_ flags, NULs and CRLF; keeps unknown keys in entries', () => {
    const v = parseVmcoreinfo('NUMBER(VMALLOC_START)=0xffffc90000000000\r\nCONFIG_X86_PAE=y\nFOO=bar\n\0\0');
    assert.equal(v.numbers['VMALLOC_START'], 0xffffc90000000000n);
    assert.equal(v.configs['CONFIG_X86_PAE'], 'y');
    assert.deepEqual(v.entries.at(-1), ['FOO', 'bar']);
    assert.deepEqual(v.malformed, []);
  });

  it('reports malformed lines instead of throwing', () => {
    const v = parseVmcoreinfo(
      'no equals sign\nSIZE(page)=sixty-four\nSYMBOL(x)=zz\nOFFSET(a.b)=-1\nPAGESIZE=4096\n',
    );
    assert.deepEqual(v.malformed, [
      'no equals sign',
      'SIZE(page)=sixty-four',
      'SYMBOL(x)=zz',
      'OFFSET(a.b)=-1',
    ]);
    assert.equal(v.pageSize, 4096);
    assert.equal(v.sizes['page'], undefined);
  });

  it('need() names the missing key', () => {
    const v = parseVmcoreinfo('SIZE(page)=64\n');
    assert.equal(need(v.sizes, 'SIZE', 'page'), 64);
    assert.throws(
      () => need(v.sizes, 'SIZE', 'printk_info'),
      (e: unknown) => {
        assert.ok(e instanceof FormatError);
        assert.match(e.message, /no SIZE\(printk_info\)/);
        return true;
      },
    );
  });

  it('refuses notes larger than the cap', () => {
    assert.throws(() => parseVmcoreinfo('A=b\n'.repeat(20000)), FormatError);
  });

  it('vmcoreinfoText drops trailing NULs', () => {
    assert.equal(vmcoreinfoText(new Uint8Array([0x41, 0x3d, 0x31, 0x0a, 0, 0])), 'A=1\n');
  });
});
