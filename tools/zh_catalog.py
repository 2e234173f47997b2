"""Our zh catalog: msgids in English, layered over FAB's (which misses some).

``python tools/zh_catalog.py`` rewrites messages.po and compiles messages.mo;
tests/test_i18n.py fails when the committed .mo is stale or a msgid lacks Chinese.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

DIR = Path(__file__).resolve().parent.parent / "app" / "translations" / "zh" / "LC_MESSAGES"

ZH = {
    # FAB's own strings its zh catalog lacks
    "Add": "新增", "Edit": "编辑", "Delete": "删除", "Show": "查看", "Add Group": "新增用户组",
    "Edit Group": "编辑用户组", "Show Group": "查看用户组", "Groups": "用户组", "List Groups": "用户组列表",
    "Are you sure you want to delete this item?": "确定要删除这条记录吗？", "Database Error": "数据库错误",
    "Edit User Information": "编辑用户信息", "Either select a role or a group": "请选择角色或用户组",
    "Please rewrite the user": "请重新输入用户", "Sign In with ": "登录方式：", "The user": "用户",
    "User information changed": "用户信息已修改",
    "User(s) exists in the group, cannot delete": "用户组中仍有用户，不能删除",
    "User(s) exists in the role, cannot delete": "角色中仍有用户，不能删除",
    "In": "属于", "Not In": "不属于", "OK": "确定", "No row selected": "请先勾选要操作的记录",
    # ours
    "Address": "地址", "Audit": "审计", "Audit log": "审计日志", "Base union": "所属基层工会",
    "Birth date": "出生日期", "Cancel": "取消", "Certification": "实名认证", "Chairman": "工会主席",
    "Clear": "清除", "Code": "编码", "Collective wage negotiation": "工资集体协商", "Confirm": "确认",
    "Contact": "联系人", "Contract valid until": "合同有效期至", "Created at": "创建时间", "Detail": "详情",
    "Economic type": "经济类型", "Employees": "职工人数", "Event": "事件",
    "From": "原", "Gender": "性别", "Gender and birth date are filled from a resident ID number": "填写居民身份证号后，性别和出生日期自动生成",
    "ID number": "证件号码", "ID type": "证件类型", "IP": "IP地址", "Industry": "所属行业",
    "Join date": "入会日期", "Leader": "单位负责人", "Level": "层级", "Locked until": "锁定至",
    "Login": "登录", "Member": "会员", "Member number": "会员编号", "Members": "会员管理",
    "Members in scope": "管辖范围内会员", "Membership status": "会籍状态", "Migrant worker": "是否农民工",
    "Citizen card number": "市民卡号", "Holds a citizen card": "持有市民卡", "Citizen card": "市民卡",
    "Migrant workers": "农民工人数", "Mobile": "手机号",
    "More than %(cap)s records match: only the first %(cap)s can be paged; narrow the search.":
        "匹配记录超过 %(cap)s 条，仅能翻阅前 %(cap)s 条，请缩小搜索范围。",
    "Name": "姓名", "Nature": "单位性质", "No records": "暂无记录", "Operator": "操作人",
    "Organization": "所属组织", "Organization name": "名称", "Organization tree": "组织架构树", "Organizations": "工会组织",
    "Organizations and members": "组织与会员", "Parent organization": "上级组织", "Path": "路径",
    "Pending certifications": "待审核实名认证", "Phone": "联系电话", "Position": "职务", "Processing trail": "处理轨迹",
    "Reason": "原因", "Reason (required, audited)": "查看原因（必填，将记入审计）", "Records": "记录",
    "Remark": "备注", "Reveal": "查看明文", "Reveal personal data": "查看个人敏感信息", "Revealed": "明文",
    "Search": "搜索", "Search by name": "按名称模糊搜索", "Step": "操作", "Summary": "摘要", "Target": "对象",
    "Target base union": "目标基层工会", "Target id": "对象ID",
    "This view has been recorded in the audit log.": "本次查看已记入审计日志。", "Time": "时间", "To": "新",
    "Export to Excel": "导出 Excel", "Import": "导入", "Data jobs": "采集任务", "Result file": "导出结果", "Import members": "会员批量导入",
    "Direction": "类型", "Kind": "任务类别", "Status": "状态", "Rows (estimated)": "总行数（估算）", "Processed": "已处理",
    "Accepted": "成功", "Created": "新增", "Updated": "更新", "Rejected": "失败", "Message": "信息", "Submitted by": "提交人",
    "Submitted at": "提交时间", "Updated at": "更新时间", "Started at": "开始时间", "Finished at": "完成时间", "File": "文件名",
    "Welfare activities": "普惠活动", "Vouchers": "券码与核销明细", "Redeem vouchers": "券码核销", "Merchants": "商家管理", "Coupons": "优惠券", "Activities": "活动管理",
    "Merchant name": "商家名称", "Type": "类型", "Service type": "服务类型", "Landline": "座机", "Tags": "标签",
    "Region": "所在区域", "Introduction": "简介", "Settled date": "入驻日期", "Longitude": "经度", "Latitude": "纬度",
    "Business licence": "营业执照", "Logo": "商家Logo", "Cover image": "封面图片",
    "Online": "是否上线", "Managing union": "管理工会", "Merchant": "商家", "Title": "标题", "Coupon name": "优惠券名称",
    "Quantity": "发行数量", "Allocated": "已分配", "Remaining": "剩余数量", "Valid from": "有效期开始", "Valid to": "有效期结束",
    "Face value": "面值", "Usage condition": "使用条件", "Enabled": "是否开启", "Activity title": "活动标题",
    "Publishing union": "发布工会", "Review status": "审核状态", "Claim limit": "领取限制", "Claims per day": "每天可领次数",
    "Scope": "活动范围", "Start": "开始时间", "End": "结束时间", "Content": "活动内容", "Vouchers generated": "已生成券码",
    "Transfer": "转会", "Transfer history": "转会记录", "Transfer to another base union": "转会到其他基层工会",
    "USCC": "统一社会信用代码", "Unit": "所在单位", "Unit name": "单位名称", "Units": "单位信息",
    "User": "用户", "User id": "用户ID", "Welcome": "欢迎",
    "Activity review": "活动审核", "Coupon type": "优惠券类型", "Eligibility": "领取对象", "Reviewed at": "审核时间",
    "Mutual aid": "互助保障", "Mutual aid desk": "互助保障工作台", "Claim work pool": "费用录入",
    "Claim acceptance": "申领受理", "Claim reviews": "申领审核", "Claim payments": "申领打款", "Claim query": "申领查询", "Member units": "注册/审核", "Protection plans": "保障活动",
    "Enrollments": "参保录入", "New enrollment": "新建参保录入", "Confirmation letters": "确认书打印",
    "Settlement and invoices": "结算与开票",
}


def build() -> tuple[bytes, bytes]:
    fixed = datetime(2026, 1, 1, tzinfo=timezone.utc)  # deterministic output
    catalog = Catalog(locale="zh", project="union-admin", charset="utf-8", creation_date=fixed,
                      revision_date=fixed)
    for msgid, msgstr in sorted(ZH.items()):
        catalog.add(msgid, msgstr)
    po, mo = io.BytesIO(), io.BytesIO()
    write_po(po, catalog, omit_header=False, sort_output=True, width=120)
    write_mo(mo, catalog)
    return po.getvalue(), mo.getvalue()


if __name__ == "__main__":
    po, mo = build()
    (DIR / "messages.po").write_bytes(po)
    (DIR / "messages.mo").write_bytes(mo)
    print(f"wrote {len(ZH)} messages", file=sys.stderr)
